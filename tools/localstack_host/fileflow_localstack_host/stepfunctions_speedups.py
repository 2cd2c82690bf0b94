"""Step Functions on the local cloud: parse each JSONPath once, and assume a state's role once.

**JSONPath.** LocalStack's interpreter calls `jsonpath_ng.ext.parse()` for every InputPath, ResultPath, Choice
variable and `.$` parameter it evaluates, and each call builds a new PLY parser, regenerating its LR
tables: measured with py-spy during a burst of 100 files, that was most of LocalStack's CPU, and every
other service it serves (S3, SQS, DynamoDB, Lambda) waited behind it. A parsed expression is immutable
(`find` and `update_or_create` change the data, never the expression), so one per distinct path is
shared, which is what AWS's own interpreter amounts to.

**Clients.** For every Task state it runs (a Lambda invoke, a DynamoDB call), LocalStack's interpreter
asks STS to assume the state machine's role, a request through LocalStack's own gateway, and builds a new
boto3 client with those credentials. py-spy (`--gil`) during 100 concurrent uploads, with the pipeline
processing the files already uploaded, put 8.6% of the samples holding LocalStack's GIL in that client
construction alone, besides the AssumeRole requests. Each (service, region, role) gets one client for up
to 10 minutes: AWS's Step Functions holds a role session for its whole lifetime too, and the local cloud
does not enforce what a role allows.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from localstack.runtime import hooks

from fileflow_localstack_host.memo import memoized

# The modules of LocalStack's Step Functions interpreter that call `parse` (bound at their import).
_USERS = (
    "localstack.services.stepfunctions.asl.utils.json_path",
    "localstack.services.stepfunctions.asl.component.common.path.result_path",
)


def cached_parse(parse: Any) -> Any:
    """`parse` with a cache of the expressions it returned (never wrapped twice)."""
    return memoized(parse, maxsize=4096)


# Less than the hour LocalStack's STS gives an assumed role's credentials.
CLIENT_TTL_SECONDS = 600.0


def cached_clients(factory: Any, *, ttl: float = CLIENT_TTL_SECONDS, clock: Any = time.monotonic) -> Any:
    """`boto_client_for(service, region, state_credentials)`, one client per (service, region, role)."""
    if getattr(factory, "fileflow_cached", False):
        return factory
    clients: dict[tuple[str, str, str], tuple[float, Any]] = {}
    lock = threading.Lock()

    def boto_client_for(service: str, region: str, state_credentials: Any) -> Any:
        key = (service, region, state_credentials.role_arn)
        now = clock()
        with lock:
            found = clients.get(key)
        if found is not None and now - found[0] < ttl:
            return found[1]
        client = factory(service, region, state_credentials)  # boto3 clients are thread-safe: shared
        with lock:
            clients[key] = (now, client)
        return client

    boto_client_for.fileflow_cached = True  # type: ignore[attr-defined]
    return boto_client_for


@hooks.on_infra_start()
def cache_jsonpath_parsing() -> None:
    import importlib

    for name in _USERS:
        module = importlib.import_module(name)
        # Each module's own `parse` (json_path.py uses jsonpath_ng.ext's, result_path.py jsonpath_ng's).
        module.parse = cached_parse(module.parse)


@hooks.on_infra_start()
def cache_state_clients() -> None:
    import sys

    from localstack.services.stepfunctions.asl.utils import boto_client

    original = boto_client.boto_client_for
    cached = cached_clients(original)
    boto_client.boto_client_for = cached
    # Modules imported before this hook hold the original under their own name.
    for module in list(sys.modules.values()):
        if getattr(module, "boto_client_for", None) is original:
            module.boto_client_for = cached  # type: ignore[attr-defined]
