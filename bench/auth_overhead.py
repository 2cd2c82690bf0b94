"""What authentication costs: an authenticated route against the public one, same function, same run.

    make bench-auth                                   # 200 requests each, after 20 warm-up requests each
    .venv/bin/python -m bench.auth_overhead --requests 500

- in process: `TokenVerifier.verify` (algorithm/issuer selection, PyJWT decode, claims model) against
  a bare `jwt.decode` of the same token with the same key (the peer).
- deployed stack: `POST /v1/upload-tokens` (token verified, one conditional DynamoDB update for the
  rate limit, an upload token minted) against `GET /health` (no auth; three dependency probes), both
  served by ApiFunction. Requests alternate, so drift hits both. On the local cloud no authorizer runs,
  so this is the function's own verification; on AWS (FILEFLOW_TARGET=aws) it adds the authorizer
  (cached per token for 5 minutes).
Prints medians and p95s and the ratios ours / peer.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import jwt
import requests

from bench.figures import record
from fileflow_common.tokens import API_AUDIENCE, HS256, StaticKey, TokenMinter, TokenVerifier, TrustedIssuer
from tools.stack import load_outputs, stack_name
from tools.token import TokenFactory


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _p95(samples: list[float]) -> float:
    return sorted(samples)[int(0.95 * (len(samples) - 1))]


def _report(
    name: str,
    ours: list[float],
    peer: list[float],
    unit: str,
    scale: float,
    *,
    p95_target: float | None = None,
) -> None:
    ratio = statistics.median(ours) / statistics.median(peer)
    ours_text = f"median {statistics.median(ours) * scale:.3f} {unit} (p95 {_p95(ours) * scale:.3f})"
    peer_text = f"median {statistics.median(peer) * scale:.3f} {unit} (p95 {_p95(peer) * scale:.3f})"
    print(f"{name}: ours {ours_text}, peer {peer_text}, ratio ours / peer {ratio:.2f}")
    ours_name, _, peer_name = name.partition(" vs ")
    record(
        ours_name,
        ours_text,
        f"{peer_name} {peer_text}",
        ratio,
        target=None if p95_target is None else f"warm single-client p95 <= {p95_target:.0f} {unit}",
        met=None if p95_target is None else _p95(ours) * scale <= p95_target,
    )


def in_process(rounds: int) -> None:
    key = "k" * 64
    token = TokenMinter(issuer="fileflow", signing_key=StaticKey(key)).mint(
        "alice", audience=API_AUDIENCE, ttl=timedelta(hours=1)
    )
    verifier = TokenVerifier([TrustedIssuer("fileflow", API_AUDIENCE, (HS256,), StaticKey(key))])
    ours, peer = [], []
    for _ in range(rounds):
        ours.append(_timed(lambda: verifier.verify(token.token)))
        peer.append(_timed(lambda: jwt.decode(token.token, key, algorithms=[HS256], audience=API_AUDIENCE)))
    _report("verify (in process) vs bare jwt.decode", ours, peer, "µs", 1e6)


def deployed(requests_each: int, warmup: int) -> None:
    stack = load_outputs()
    base = stack.api_url
    tokens = TokenFactory.for_stack(stack)
    session = requests.Session()

    def authenticated() -> None:
        # A fresh user per request: the rate limit never trips, every request pays the full price.
        headers = {"Authorization": f"Bearer {tokens.valid(f'bench-{uuid.uuid4().hex[:12]}')}"}
        response = session.post(f"{base}/v1/upload-tokens", headers=headers, timeout=30)
        response.raise_for_status()

    def public() -> None:
        session.get(f"{base}/health", timeout=30).raise_for_status()

    for _ in range(warmup):
        authenticated()
        public()
    ours, peer = [], []
    for _ in range(requests_each):
        ours.append(_timed(authenticated))
        peer.append(_timed(public))
    _report(
        f"POST /v1/upload-tokens, warm, one client vs GET /health ({stack_name()})",
        ours,
        peer,
        "ms",
        1e3,
        p95_target=60,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per route")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per route first")
    parser.add_argument("--rounds", type=int, default=5000, help="in-process verifications")
    args = parser.parse_args(argv)
    in_process(args.rounds)
    deployed(args.requests, args.warmup)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
