"""Upload throughput: Fileflow's client path against boto3's TransferManager, same S3, same run.

    make bench-upload                      # 256 MiB, 8 at a time, 3 runs each (after one warm-up each)
    .venv/bin/python -m bench.upload_throughput --size-mib 512 --concurrency 16 --runs 5

- fileflow: `FileflowClient.upload`: API initiate, part URLs signed in batches (each with its part's
  SHA-256), parallel PUTs to the presigned URLs while a thread of its own hashes the whole file
  (SHA-256), complete declaring it, verify.
- boto3: `S3Client.upload_file` with TransferConfig(multipart_chunksize = the API's part size,
  max_concurrency = the same concurrency), straight to the bucket with the local cloud's
  credentials.
Three comparisons (`--integrity all`, the default): each side with its own integrity checks (ours: the
whole-file SHA-256 and a SHA-256 per part that S3 checks; boto3: its default CRC32 per part), then both
without part checksums (ours keeps the whole-file SHA-256 it always declares; boto3 sends none), then
ours with a CRC32C per part (`checksum_algorithm="CRC32C"`, S3 checks it) against boto3's CRC32.
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
from typing import TYPE_CHECKING, Literal

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
    client: FileflowClient, path: Path, concurrency: int, *, part_checksums: bool, algorithm: str
) -> tuple[Run, str, int]:
    started = time.monotonic()
    set_up_at: list[float] = []  # when the upload was initiated (and a file for one PUT hashed)

    def on_progress(event: Progress) -> None:
        if event.phase == "uploading" and not set_up_at:
            set_up_at.append(time.monotonic())

    result = client.upload(
        path,
        concurrency=concurrency,
        part_checksums=part_checksums,
        checksum_algorithm=algorithm,
        progress=on_progress,
        resume=False,
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


@dataclass(frozen=True)
class Integrity:
    """What each side checks in one comparison."""

    name: str
    part_checksums: (
        bool  # ours: a SHA-256 per part, checked by S3 (the whole-file SHA-256 is always declared)
    )
    # botocore's request_checksum_calculation: its default CRC32 per part, or none
    boto3_checksums: Literal["when_supported", "when_required"]
    algorithm: str = "SHA256"  # ours, per part

    @property
    def label(self) -> str:
        if self.part_checksums and self.algorithm == "CRC32C":
            return "ours: whole-file SHA-256 + per-part CRC32C; boto3: its default CRC32 per part"
        if self.part_checksums:
            return "ours: whole-file + per-part SHA-256; boto3: its default CRC32 per part"
        return "ours: whole-file SHA-256 only, no part checksums; boto3: no checksums"


INTEGRITY = {
    "checked": Integrity("checked", part_checksums=True, boto3_checksums="when_supported"),
    "unchecked": Integrity("unchecked", part_checksums=False, boto3_checksums="when_required"),
    "crc32c": Integrity("crc32c", part_checksums=True, boto3_checksums="when_supported", algorithm="CRC32C"),
}


def compare(
    stack: StackOutputs,
    token: str,
    path: Path,
    integrity: Integrity,
    args: argparse.Namespace,
    console: Console,
) -> None:
    """Fileflow against boto3 under one integrity setting: interleaved runs, the table and the figure."""
    size = args.size_mib * MIB
    bucket = stack[names.BUCKET_NAME]
    s3 = boto3.client(
        "s3",
        config=Config(
            signature_version="s3v4",
            max_pool_connections=max(10, args.concurrency),
            request_checksum_calculation=integrity.boto3_checksums,
        ),
        **client_kwargs(),
    )
    ours: list[Run] = []
    theirs: list[Run] = []
    with FileflowClient(stack.api_url, token, state_dir=path.parent / f"state-{integrity.name}") as client:
        part_size = 0
        for index in range(args.runs + 1):
            # fileflow first in the warm-up (it learns the API's part size), then alternating
            for contender in ("fileflow", "boto3") if index % 2 == 0 else ("boto3", "fileflow"):
                if contender == "fileflow":
                    run, key, part_size = fileflow_run(
                        client,
                        path,
                        args.concurrency,
                        part_checksums=integrity.part_checksums,
                        algorithm=integrity.algorithm,
                    )
                else:
                    run, key = boto3_run(s3, bucket, path, part_size, args.concurrency)
                delete_every_version(s3, bucket, key)
                if index:  # the warm-up is not counted
                    (ours if contender == "fileflow" else theirs).append(run)

    table = Table(
        title=f"upload throughput, {args.size_mib} MiB, {part_size // MIB} MiB parts x {args.concurrency}; "
        f"{integrity.label}"
    )
    table.add_column("run")
    table.add_column("fileflow MB/s", justify="right")
    table.add_column("of which before the first part, s", justify="right")
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
    setup = statistics.median(run.setup_seconds for run in ours)
    console.print(f"[bold]ratio fileflow / boto3 ({integrity.name}): {ratio:.2f}[/]")
    record(
        f"upload MB/s, median ({args.size_mib} MiB, {part_size // MIB} MiB parts x {args.concurrency}; "
        f"{integrity.label})",
        f"{median_ours:.1f} MB/s (first part after {setup:.2f} s)",
        f"boto3 upload_file (TransferManager) {median_theirs:.1f} MB/s",
        ratio,
        target=">= 1.0x boto3 TransferManager",
        met=ratio >= 1.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3, help="measured runs of each (after one warm-up each)")
    parser.add_argument(
        "--integrity",
        choices=("all", *INTEGRITY),
        default="all",
        help="checked: each side with its own checks; unchecked: neither; crc32c: ours with CRC32C part "
        "checksums; all: each in turn",
    )
    args = parser.parse_args(argv)
    console = Console()
    stack: StackOutputs = load_outputs()
    # a user of its own: the per-user quota and rate limit do not carry over between benchmarks
    token = TokenFactory.for_stack(stack).valid(f"bench-{uuid.uuid4().hex[:12]}")
    with tempfile.TemporaryDirectory(prefix="fileflow-bench-") as scratch:
        path = Path(scratch) / "bench.bin"
        sha256 = write_random_file(path, args.size_mib * MIB)
        console.print(
            f"stack {stack_name()}: {args.size_mib} MiB (sha256 {sha256[:12]}...), "
            f"concurrency {args.concurrency}, {args.runs} runs each after a warm-up"
        )
        for name in INTEGRITY if args.integrity == "all" else (args.integrity,):
            compare(stack, token, path, INTEGRITY[name], args, console)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
