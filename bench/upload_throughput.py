"""Upload throughput: Fileflow's client path against boto3's TransferManager, same S3, same run.

    make bench-upload                      # 256 MiB, 8 at a time, 3 runs each (after one warm-up each)
    .venv/bin/python -m bench.upload_throughput --size-mib 512 --concurrency 16 --runs 5

- fileflow: `FileflowClient.upload`: SHA-256 of the file, API initiate, part URLs signed in
  batches (each with its part's SHA-256), parallel PUTs to the presigned URLs, complete, verify.
- boto3: `S3Client.upload_file` with TransferConfig(multipart_chunksize = the API's part size,
  max_concurrency = the same concurrency), straight to the bucket with the local cloud's
  credentials (boto3's own default checksums: CRC32 per part).
Same file, same endpoint (the stack's bucket on the local cloud or AWS), runs interleaved so drift
hits both. The boto3 copies go under `bench/` (no processing notification); every object is
deleted after its run. Prints each run's MB/s, the medians and the ratio fileflow / boto3.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from rich.console import Console
from rich.table import Table

from bench.figures import record
from fileflow_client import FileflowClient, Progress
from infra import outputs as names
from tools.stack import StackOutputs, client_kwargs, load_outputs, stack_name
from tools.token import TokenFactory

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


@dataclass(frozen=True)
class Run:
    seconds: float
    setup_seconds: float = 0.0

    def mb_per_s(self, size: int) -> float:
        return size / self.seconds / 1e6


def write_random_file(path: Path, size: int) -> str:
    """Random bytes (every part differs); returns their SHA-256."""
    generator, digest = random.Random(42), hashlib.sha256()
    with path.open("wb") as file:
        remaining = size
        while remaining:
            chunk = generator.randbytes(min(8 * MIB, remaining))
            digest.update(chunk)
            file.write(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def delete_every_version(s3: S3Client, bucket: str, key: str) -> None:
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for version in [*versions.get("Versions", []), *versions.get("DeleteMarkers", [])]:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def fileflow_run(
    client: FileflowClient, path: Path, concurrency: int, *, part_checksums: bool
) -> tuple[Run, str, int]:
    started = time.monotonic()
    set_up_at: list[float] = []  # when the file was hashed and the upload initiated

    def on_progress(event: Progress) -> None:
        if event.phase == "uploading" and not set_up_at:
            set_up_at.append(time.monotonic())

    result = client.upload(
        path, concurrency=concurrency, part_checksums=part_checksums, progress=on_progress, resume=False
    )
    seconds = time.monotonic() - started
    return Run(seconds, set_up_at[0] - started if set_up_at else 0.0), result.key, result.part_size


def boto3_run(s3: S3Client, bucket: str, path: Path, part_size: int, concurrency: int) -> tuple[Run, str]:
    key = f"bench/boto3/{uuid.uuid4().hex}"
    config = TransferConfig(
        multipart_threshold=part_size, multipart_chunksize=part_size, max_concurrency=concurrency
    )
    started = time.monotonic()
    s3.upload_file(str(path), bucket, key, Config=config)
    return Run(time.monotonic() - started), key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="measured runs of each (after one warm-up each)")
    parser.add_argument(
        "--no-part-checksums",
        dest="part_checksums",
        action="store_false",
        help="fileflow without per-part SHA-256s (S3 then checks none): what they cost",
    )
    args = parser.parse_args(argv)
    console = Console()
    size = args.size_mib * MIB

    stack: StackOutputs = load_outputs()
    bucket = stack[names.BUCKET_NAME]
    # a user of its own: the per-user quota and rate limit do not carry over between benchmarks
    token = TokenFactory.for_stack(stack).valid(f"bench-{uuid.uuid4().hex[:12]}")
    s3 = boto3.client(
        "s3",
        config=Config(signature_version="s3v4", max_pool_connections=max(10, args.concurrency)),
        **client_kwargs(),
    )

    with tempfile.TemporaryDirectory(prefix="fileflow-bench-") as scratch:
        path = Path(scratch) / "bench.bin"
        sha256 = write_random_file(path, size)
        console.print(
            f"stack {stack_name()}: {args.size_mib} MiB (sha256 {sha256[:12]}...), "
            f"concurrency {args.concurrency}, {args.runs} runs each after a warm-up, "
            f"part checksums {'on' if args.part_checksums else 'off'}"
        )
        ours: list[Run] = []
        theirs: list[Run] = []
        with FileflowClient(stack.api_url, token, state_dir=Path(scratch) / "state") as client:
            part_size = 0
            for index in range(args.runs + 1):
                # fileflow first in the warm-up (it learns the API's part size), then alternating
                for contender in ("fileflow", "boto3") if index % 2 == 0 else ("boto3", "fileflow"):
                    if contender == "fileflow":
                        run, key, part_size = fileflow_run(
                            client, path, args.concurrency, part_checksums=args.part_checksums
                        )
                    else:
                        run, key = boto3_run(s3, bucket, path, part_size, args.concurrency)
                    delete_every_version(s3, bucket, key)
                    if index:  # the warm-up is not counted
                        (ours if contender == "fileflow" else theirs).append(run)

    table = Table(
        title=f"upload throughput, {args.size_mib} MiB, {part_size // MIB} MiB parts x {args.concurrency}"
    )
    table.add_column("run")
    table.add_column("fileflow MB/s", justify="right")
    table.add_column("of which hash + initiate, s", justify="right")
    table.add_column("boto3 upload_file MB/s", justify="right")
    for number, (mine, other) in enumerate(zip(ours, theirs, strict=True), start=1):
        table.add_row(
            str(number),
            f"{mine.mb_per_s(size):.1f}",
            f"{mine.setup_seconds:.2f}",
            f"{other.mb_per_s(size):.1f}",
        )
    median_ours = statistics.median(run.mb_per_s(size) for run in ours)
    median_theirs = statistics.median(run.mb_per_s(size) for run in theirs)
    table.add_row("median", f"{median_ours:.1f}", "", f"{median_theirs:.1f}", style="bold")
    console.print(table)
    ratio = median_ours / median_theirs
    console.print(f"[bold]ratio fileflow / boto3: {ratio:.2f}[/]")
    checksums = "per-part SHA-256" if args.part_checksums else "no part checksums"
    record(
        f"upload MB/s, median ({args.size_mib} MiB, {part_size // MIB} MiB parts x {args.concurrency}, "
        f"{checksums})",
        f"{median_ours:.1f} MB/s",
        f"boto3 upload_file (TransferManager) {median_theirs:.1f} MB/s",
        ratio,
        target=">= 1.0x boto3 TransferManager",
        met=ratio >= 1.0,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
