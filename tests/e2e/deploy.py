"""The stack as the e2e and browser suites test it, deployed (or updated) on the local cloud.

The suites' `stack` fixture deploys it first; `make test` runs `python -m tests.e2e.deploy` once for
both suites (they then run with FILEFLOW_E2E_SKIP_DEPLOY=1 on the same local cloud).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Claude emulator the suites start (tests/support/claude_emulator.py): the AI stage calls it there.
CLAUDE_PORT = int(os.environ.get("FILEFLOW_CLAUDE_PORT", "5002"))
# Webhooks to a receiver on 127.0.0.1 (the stack refuses this on AWS), retried after 1 s, and an endpoint
# disabled after 3 failed deliveries: what tests/e2e/test_webhooks.py exercises in seconds.
E2E_CONTEXT = (
    *("--context", "webhooks_allow_local_http=true"),
    *("--context", "webhook_retry_schedule=1,1,1,1"),
    *("--context", "webhook_disable_after=3"),
    # The AI stage against the emulator: a 2 s timeout, waits of at most 0.5 s, a circuit that opens after
    # 3 failures and half-opens after 30 s (tests/e2e/test_ai_analysis.py resets it when done).
    *("--context", f"anthropic_base_url=http://127.0.0.1:{CLAUDE_PORT}"),
    *("--context", "ai_timeout_seconds=2"),
    *("--context", "ai_max_retry_wait_seconds=0.5"),
    *("--context", "ai_circuit_failures=3"),
    *("--context", "ai_circuit_cooldown_seconds=30"),
)


def deploy() -> None:
    """`tools.deploy up` with the suites' context (only what changed is updated)."""
    subprocess.run([sys.executable, "-m", "tools.deploy", "up", *E2E_CONTEXT], cwd=ROOT, check=True)


if __name__ == "__main__":
    deploy()
