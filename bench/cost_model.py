"""The cost model: what one unit of work (a file of a kind, one API request) uses, priced per million units.

Pure arithmetic, no AWS: `make bench-cost` (bench/cost.py) measures the usage on the deployed stack, and
bench/prices.toml holds the prices. The rules, as AWS bills them (docs/cost.md, "How it is computed"):
- Lambda: GB-seconds of each invocation's duration rounded up to the millisecond at the function's
  configured memory, one request per invocation, /tmp above 512 MB by the GB-second;
- S3: PUT-class requests (PUT, COPY, POST, LIST, multipart), GET-class (GET, HEAD, the rest); DELETE and
  abort are free; storage by the GB-month, apart (it recurs every month the files are kept);
- DynamoDB on demand, from the calls by operation: a strongly consistent read (GetItem, one Query page)
  is 1 read unit, a write 1 write unit, each item of a batch 1 unit and of a transaction 2 (items assumed
  at most 4 KB read and 1 KB written: larger ones cost more, so this is a floor);
- SQS: every request; Step Functions standard: every state transition; CloudWatch Logs: bytes ingested;
  Secrets Manager: every call; X-Ray: every trace recorded; API Gateway REST: every request.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MILLION = 1_000_000
GB = 1024**3
PRICES_FILE = Path(__file__).with_name("prices.toml")

# DynamoDB units per call (strongly consistent reads of at most 4 KB, writes of at most 1 KB) ...
READ_UNITS_PER_CALL = {"GetItem": 1.0, "Query": 1.0, "Scan": 1.0}
WRITE_UNITS_PER_CALL = {"PutItem": 1.0, "UpdateItem": 1.0, "DeleteItem": 1.0}
# ... and per item of the multi-item operations (transactions cost twice).
READ_UNITS_PER_ITEM = {"BatchGetItem": 1.0, "TransactGetItems": 2.0}
WRITE_UNITS_PER_ITEM = {"BatchWriteItem": 1.0, "TransactWriteItems": 2.0}
S3_PUT_CLASS_PREFIXES = ("Put", "Copy", "Post", "List", "Create", "Upload", "Complete", "Restore")
S3_FREE_PREFIXES = ("Delete", "Abort")

# The cost lines, in the order the tables show them.
AWS_LINES = (
    "Lambda compute",
    "Lambda requests",
    "API Gateway",
    "S3 requests",
    "DynamoDB",
    "SQS",
    "Step Functions",
    "CloudWatch Logs",
    "Secrets Manager",
    "X-Ray",
)


@dataclass(frozen=True)
class Prices:
    """USD per single unit (a GB-second, a request, a request unit, a byte ...), from prices.toml."""

    as_of: str
    verified_online: bool
    lambda_gb_second: float
    lambda_request: float
    lambda_ephemeral_gb_second: float
    lambda_ephemeral_free_mb: int
    api_request: float
    s3_put_class: float
    s3_get_class: float
    s3_storage_gb_month: float
    dynamodb_write_unit: float
    dynamodb_read_unit: float
    sqs_request: float
    sfn_transition: float
    logs_ingest_gb: float
    secrets_call: float
    xray_trace: float

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> Prices:
        return cls(
            as_of=str(data["as_of"]),
            verified_online=bool(data["verified_online"]),
            lambda_gb_second=data["lambda"]["gb_second_x86"],
            lambda_request=data["lambda"]["requests_per_million"] / MILLION,
            lambda_ephemeral_gb_second=data["lambda"]["ephemeral_gb_second"],
            lambda_ephemeral_free_mb=data["lambda"]["ephemeral_free_mb"],
            api_request=data["api_gateway"]["rest_requests_per_million"] / MILLION,
            s3_put_class=data["s3"]["put_class_per_thousand"] / 1000,
            s3_get_class=data["s3"]["get_class_per_thousand"] / 1000,
            s3_storage_gb_month=data["s3"]["storage_gb_month"],
            dynamodb_write_unit=data["dynamodb"]["write_request_units_per_million"] / MILLION,
            dynamodb_read_unit=data["dynamodb"]["read_request_units_per_million"] / MILLION,
            sqs_request=data["sqs"]["standard_requests_per_million"] / MILLION,
            sfn_transition=data["step_functions"]["standard_transitions_per_thousand"] / 1000,
            logs_ingest_gb=data["cloudwatch_logs"]["ingest_gb"],
            secrets_call=data["secrets_manager"]["api_calls_per_ten_thousand"] / 10_000,
            xray_trace=data["xray"]["traces_recorded_per_million"] / MILLION,
        )

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        return cls.from_toml(tomllib.loads(path.read_text()))


@dataclass(frozen=True)
class Invocation:
    """A function's invocations per unit (`count`, may be a fraction: a batch), each of `duration_ms`."""

    function: str
    memory_mb: int
    duration_ms: float
    count: float = 1.0
    ephemeral_mb: int = 512


@dataclass(frozen=True)
class Usage:
    """What one unit uses, on average: invocations, AWS calls by "service:Operation", the items of
    DynamoDB's multi-item operations, state transitions, API requests, log bytes, traces, bytes kept."""

    invocations: tuple[Invocation, ...] = ()
    operations: Mapping[str, float] = field(default_factory=dict)
    items: Mapping[str, float] = field(default_factory=dict)
    transitions: float = 0.0
    api_requests: float = 0.0
    log_bytes: float = 0.0
    traces: float = 0.0
    stored_bytes: float = 0.0


@dataclass(frozen=True)
class Cost:
    """USD per million units, by line; storage is per month kept, apart from the total."""

    lines: dict[str, float]
    storage_month: float

    @property
    def total(self) -> float:
        return sum(self.lines.values())


def s3_class(operation: str) -> str:
    """ "put", "get" or "free" for an S3 operation name (PutObject, GetObject, DeleteObject ...)."""
    if operation.startswith(S3_FREE_PREFIXES):
        return "free"
    return "put" if operation.startswith(S3_PUT_CLASS_PREFIXES) else "get"


def dynamodb_units(operations: Mapping[str, float], items: Mapping[str, float]) -> tuple[float, float]:
    """(read units, write units) of the DynamoDB calls; control-plane calls (DescribeTable) are free."""
    reads = writes = 0.0
    for name, calls in operations.items():
        service, _, operation = name.partition(":")
        if service != "dynamodb":
            continue
        reads += calls * READ_UNITS_PER_CALL.get(operation, 0.0)
        writes += calls * WRITE_UNITS_PER_CALL.get(operation, 0.0)
        carried = items.get(name, 0.0)
        reads += carried * READ_UNITS_PER_ITEM.get(operation, 0.0)
        writes += carried * WRITE_UNITS_PER_ITEM.get(operation, 0.0)
    return reads, writes


def billed_ms(duration_ms: float) -> int:
    return math.ceil(duration_ms)


def lambda_cost(invocations: tuple[Invocation, ...], prices: Prices) -> tuple[float, float]:
    """(compute, requests) in USD for one unit."""
    compute = requests = 0.0
    for one in invocations:
        seconds = billed_ms(one.duration_ms) / 1000
        compute += one.count * one.memory_mb / 1024 * seconds * prices.lambda_gb_second
        extra_gb = max(0, one.ephemeral_mb - prices.lambda_ephemeral_free_mb) / 1024
        compute += one.count * extra_gb * seconds * prices.lambda_ephemeral_gb_second
        requests += one.count * prices.lambda_request
    return compute, requests


def _calls(operations: Mapping[str, float], service: str) -> float:
    return sum(calls for name, calls in operations.items() if name.partition(":")[0] == service)


def cost_per_million(usage: Usage, prices: Prices) -> Cost:
    compute, requests = lambda_cost(usage.invocations, prices)
    s3 = 0.0
    for name, calls in usage.operations.items():
        service, _, operation = name.partition(":")
        if service == "s3":
            kind = s3_class(operation)
            s3 += calls * {"put": prices.s3_put_class, "get": prices.s3_get_class, "free": 0.0}[kind]
    reads, writes = dynamodb_units(usage.operations, usage.items)
    per_unit = {
        "Lambda compute": compute,
        "Lambda requests": requests,
        "API Gateway": usage.api_requests * prices.api_request,
        "S3 requests": s3,
        "DynamoDB": reads * prices.dynamodb_read_unit + writes * prices.dynamodb_write_unit,
        "SQS": _calls(usage.operations, "sqs") * prices.sqs_request,
        "Step Functions": usage.transitions * prices.sfn_transition,
        "CloudWatch Logs": usage.log_bytes / GB * prices.logs_ingest_gb,
        "Secrets Manager": _calls(usage.operations, "secretsmanager") * prices.secrets_call,
        "X-Ray": usage.traces * prices.xray_trace,
    }
    storage = usage.stored_bytes / GB * prices.s3_storage_gb_month
    return Cost({line: per_unit[line] * MILLION for line in AWS_LINES}, storage * MILLION)


def add_usage(*parts: Usage) -> Usage:
    """The usage of several pieces of one unit together (the upload's API requests, the pipeline's run)."""
    operations: dict[str, float] = {}
    items: dict[str, float] = {}
    for part in parts:
        for name, calls in part.operations.items():
            operations[name] = operations.get(name, 0.0) + calls
        for name, count in part.items.items():
            items[name] = items.get(name, 0.0) + count
    return Usage(
        invocations=tuple(one for part in parts for one in part.invocations),
        operations=operations,
        items=items,
        transitions=sum(part.transitions for part in parts),
        api_requests=sum(part.api_requests for part in parts),
        log_bytes=sum(part.log_bytes for part in parts),
        traces=sum(part.traces for part in parts),
        stored_bytes=sum(part.stored_bytes for part in parts),
    )
