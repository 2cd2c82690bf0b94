"""Step Functions on the local cloud: parse each JSONPath once, not on every state transition.

LocalStack's interpreter calls `jsonpath_ng.ext.parse()` for every InputPath, ResultPath, Choice
variable and `.$` parameter it evaluates, and each call builds a new PLY parser, regenerating its LR
tables: measured with py-spy during a burst of 100 files, that was most of LocalStack's CPU, and every
other service it serves (S3, SQS, DynamoDB, Lambda) waited behind it. A parsed expression is immutable
(`find` and `update_or_create` change the data, never the expression), so one per distinct path is
shared, which is what AWS's own interpreter amounts to.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from localstack.runtime import hooks

# The modules of LocalStack's Step Functions interpreter that call `parse` (bound at their import).
_USERS = (
    "localstack.services.stepfunctions.asl.utils.json_path",
    "localstack.services.stepfunctions.asl.component.common.path.result_path",
)


def cached_parse(parse: Any) -> Any:
    """`parse` with a cache of the expressions it returned (the wrapper is marked: never wrapped twice)."""
    if getattr(parse, "fileflow_cached", False):
        return parse
    cached = lru_cache(maxsize=4096)(parse)
    cached.fileflow_cached = True  # type: ignore[attr-defined]
    return cached


@hooks.on_infra_start()
def cache_jsonpath_parsing() -> None:
    import importlib

    for name in _USERS:
        module = importlib.import_module(name)
        # Each module's own `parse` (json_path.py uses jsonpath_ng.ext's, result_path.py jsonpath_ng's).
        module.parse = cached_parse(module.parse)
