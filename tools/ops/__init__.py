"""Operator commands against a deployed stack (local cloud or AWS): `python -m tools.ops <command>`.

`make invoke | logs | metrics | executions | trace` call them; docs/runbooks/ says when to use which.
"""
