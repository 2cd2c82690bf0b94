"""The upload API under 100 concurrent uploads, against the same calls from one client, in the same run.

Each upload is what a client does, minus the bulk bytes: `POST /v1/uploads` for a small file, its one PUT,
`POST .../complete`; then `POST /v1/uploads` for a multipart file (3 parts), `POST .../parts` signing all of
them, `DELETE` (abort). So every route of an upload is timed, initiate, sign, complete, abort, and no
gigabytes cross the host. Client-side latency per route, p50/p95/p99.

- the peer: one client, one upload after another (warm), the single-client figure, measured first, on the
  idle stack (after the rounds the pipeline is still processing their files);
- the first concurrent round then finds one warm environment: the other concurrent requests each start
  another execution environment (from cold, or forked from the function's template); later rounds are
  warm.
- client timeouts (60 s) and 5xx are counted, never retried.

The #10 targets: p95 <= 1.0 s for initiate, sign and complete under 100 concurrent uploads, no client
timeout from cold; warm single-client p95 <= 60 ms.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.figures import record
from tools import localcloud
from tools.stack import load_outputs
from tools.token import TokenFactory

MIB = 1024 * 1024
TIMEOUT = 60.0
SMALL = b"fileflow api bench\n"
MULTIPART_SIZE = 17 * MIB  # just over the API's 16 MiB single-PUT threshold: 3 parts of 8 MiB
UPLOADS_PER_USER = 10  # each user far inside its rate limit (300 a minute)
TARGET_CONCURRENT_S = 1.0
TARGET_SINGLE_MS = 60.0
ROUTES = ("initiate", "sign", "complete", "abort")


@dataclass
class Timings:
    by_route: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeouts: int = 0
    server_errors: int = 0
    wall: float = 0.0
    cpu: Cpu | None = None
    server_error_samples: list[str] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)

    def merge(self, other: Timings) -> None:
        for route, values in other.by_route.items():
            self.by_route[route].extend(values)
        self.timeouts += other.timeouts
        self.server_errors += other.server_errors
        self.server_error_samples.extend(other.server_error_samples)
        self.other_errors.extend(other.other_errors)


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far: the whole host's, the local cloud's own process's (its gateway and the
    services it runs in-process: DynamoDB, S3, Step Functions), and this client's. Linux (/proc)."""

    host: float
    local_cloud: float
    client: float

    @staticmethod
    def now() -> Cpu | None:
        try:
            ticks = os.sysconf("SC_CLK_TCK")
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
            pid = localcloud.owned_pid()
            own = 0.0
            if pid is not None:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                own = (int(stat[11]) + int(stat[12])) / ticks  # utime, stime
        except (OSError, ValueError):
            return None
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy = (user + nice + system + irq + softirq + steal) / ticks
        return Cpu(busy, own, usage.ru_utime + usage.ru_stime)

    def since(self, start: Cpu) -> Cpu:
        return Cpu(self.host - start.host, self.local_cloud - start.local_cloud, self.client - start.client)


def percentile(values: list[float], fraction: float) -> float:
    """nan for no values (every call of the route timed out): a figure that is never met."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Uploader:
    def __init__(self, base_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        )
        self.s3 = httpx.Client(timeout=TIMEOUT)

    def call(self, timings: Timings, route: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            timings.timeouts += 1
            return None
        timings.by_route[route].append(time.perf_counter() - started)
        if response.status_code >= 500:
            timings.server_errors += 1
            timings.server_error_samples.append(
                f"{method} {route}: {response.status_code} {response.text[:160]}"
            )
            return None
        if response.status_code >= 300:
            timings.other_errors.append(f"{method} {route}: {response.status_code} {response.text[:120]}")
            return None
        return response.json() if response.content else {}

    def one_upload(self) -> Timings:
        timings = Timings()
        body = {"filename": "bench.txt", "size": len(SMALL), "content_type": "text/plain"}
        session = self.call(timings, "initiate", "POST", "/v1/uploads", json=body)
        if session is not None:
            single = session["single"]
            self.s3.put(single["url"], content=SMALL, headers=single["headers"]).raise_for_status()
            self.call(timings, "complete", "POST", f"/v1/uploads/{session['upload_id']}/complete", json={})
        body = {"filename": "bench.bin", "size": MULTIPART_SIZE, "content_type": "application/octet-stream"}
        session = self.call(timings, "initiate", "POST", "/v1/uploads", json=body)
        if session is not None:
            upload_id = session["upload_id"]
            parts = {"parts": [{"part_number": n} for n in range(1, session["part_count"] + 1)]}
            self.call(timings, "sign", "POST", f"/v1/uploads/{upload_id}/parts", json=parts)
            self.call(timings, "abort", "DELETE", f"/v1/uploads/{upload_id}")
        return timings

    def close(self) -> None:
        self.http.close()
        self.s3.close()


def concurrent_round(uploaders: list[Uploader]) -> Timings:
    total = Timings()
    before, started = Cpu.now(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(uploaders)) as pool:
        for timings in pool.map(lambda uploader: uploader.one_upload(), uploaders):
            total.merge(timings)
    total.wall = time.perf_counter() - started
    after = Cpu.now()
    total.cpu = after.since(before) if after and before else None
    return total


def describe(label: str, timings: Timings) -> None:
    print(
        f"{label}: {timings.timeouts} client timeouts, {timings.server_errors} 5xx, "
        f"{len(timings.other_errors)} other refusals"
    )
    for error in [*timings.server_error_samples[:3], *timings.other_errors[:3]]:
        print(f"  {error}")
    calls = sum(len(values) for values in timings.by_route.values())
    if timings.cpu is not None and calls:
        cpu = timings.cpu
        print(
            f"  {calls} API calls in {timings.wall:.1f} s ({calls / timings.wall:.1f}/s); CPU per call: "
            f"host {cpu.host / calls * 1000:.0f} ms, of which the local cloud's process "
            f"{cpu.local_cloud / calls * 1000:.0f} ms, this client {cpu.client / calls * 1000:.0f} ms, "
            f"the rest (functions' environments, other work) "
            f"{(cpu.host - cpu.local_cloud - cpu.client) / calls * 1000:.0f} ms; "
            f"host cores busy {cpu.host / timings.wall:.2f} of {os.cpu_count()}"
        )
    for route in ROUTES:
        values = timings.by_route.get(route, [])
        if values:
            print(
                f"  {route:<9} n={len(values):<4} p50 {statistics.median(values) * 1000:7.0f} ms  "
                f"p95 {percentile(values, 0.95) * 1000:7.0f} ms  "
                f"p99 {percentile(values, 0.99) * 1000:7.0f} ms"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=100, help="concurrent uploads per round")
    parser.add_argument("--rounds", type=int, default=2, help="concurrent rounds (the first may be cold)")
    parser.add_argument("--single", type=int, default=30, help="uploads in a row, after 5 warm-ups")
    args = parser.parse_args(argv)
    stack = load_outputs()
    tokens = TokenFactory.for_stack(stack)
    run = uuid.uuid4().hex[:8]
    users = [tokens.valid(f"bench-api-{run}-{n}") for n in range(-(-args.uploads // UPLOADS_PER_USER))]
    uploaders = [Uploader(stack.api_url, users[n // UPLOADS_PER_USER]) for n in range(args.uploads)]
    try:
        # One client first, on the idle stack: after the rounds, the pipeline still processes their files.
        single = Timings()
        alone = uploaders[0]
        for _ in range(5):
            alone.one_upload()
        for _ in range(args.single):
            single.merge(alone.one_upload())
        rounds = [concurrent_round(uploaders) for _ in range(args.rounds)]
    finally:
        for uploader in uploaders:
            uploader.close()

    describe(f"one client, {args.single} uploads one after the other (warm)", single)
    for number, timings in enumerate(rounds, 1):
        describe(f"round {number}: {args.uploads} concurrent uploads", timings)
    warm = Timings()
    for timings in rounds[1:] or rounds:
        warm.merge(timings)
    for route in ROUTES[:3]:
        ours = percentile(warm.by_route[route], 0.95)
        peer = percentile(single.by_route[route], 0.95)
        record(
            f"{route}, p95, {args.uploads} concurrent uploads (warm rounds)",
            f"{ours * 1000:.0f} ms",
            f"one client {peer * 1000:.0f} ms",
            ours / peer,
            target=f"<= {TARGET_CONCURRENT_S:.1f} s",
            met=ours <= TARGET_CONCURRENT_S and not warm.timeouts,
        )
        record(
            f"{route}, p95, one client (warm)",
            f"{peer * 1000:.0f} ms",
            "",
            None,
            target=f"<= {TARGET_SINGLE_MS:.0f} ms",
            met=peer * 1000 <= TARGET_SINGLE_MS,
        )
    last = rounds[-1]
    calls = sum(len(values) for values in last.by_route.values())
    if last.cpu is not None and calls:
        record(
            f"API calls per second, {args.uploads} concurrent uploads (last round)",
            f"{calls / last.wall:.1f}/s; host CPU {last.cpu.host / calls * 1000:.0f} ms per call "
            f"({last.cpu.local_cloud / calls * 1000:.0f} ms in the local cloud's process)",
            f"one client {1 / statistics.median(single.by_route['initiate']):.1f}/s (initiate, median)",
            calls / last.wall * statistics.median(single.by_route["initiate"]),
        )
    first = rounds[0]
    record(
        f"first round of {args.uploads} concurrent uploads: client timeouts, 5xx",
        f"{first.timeouts} timeouts, {first.server_errors} 5xx, "
        f"initiate p95 {percentile(first.by_route['initiate'], 0.95):.1f} s",
        "",
        None,
        target="no client timeout from cold",
        met=first.timeouts == 0,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
