"""Fileflow's CDK app: `infra/app.py` is the entry point, `infra/stack.py` wires `infra/constructs/`."""
