"""The one place where errors become HTTP responses.

FastAPI's own handlers stay in charge of 404/405 (HTTPException). Request validation answers 422 in the
API's error format (FastAPI's `detail` list kept alongside), and 400 when the body is not JSON at all.
An AWS error that reaches a route (the adapters let botocore's through) is a 503 with Retry-After when
it is the dependency's momentary state (throttling, a 5xx, no connection: core.errors decides), else a 500.
"""

from collections.abc import Mapping

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fileflow_api.auth import errors as auth_errors
from fileflow_api.auth.ratelimit import RateLimitedError
from fileflow_api.core import errors as core_errors
from fileflow_api.core.security import SECURITY_HEADERS
from fileflow_api.files import errors as files_errors
from fileflow_api.hls import errors as hls_errors
from fileflow_api.reviews import errors as reviews_errors
from fileflow_api.uploads import errors as uploads_errors
from fileflow_api.usage import errors as usage_errors
from fileflow_api.usage.quotas import QuotaExceededError
from fileflow_api.webhooks import errors as webhooks_errors
from fileflow_common.errors import FileflowError
from fileflow_common.observability import logger, metrics

# Each capability maps its own errors; looked up along the exception's MRO, so a subclass inherits its
# parent's status, and any other domain error is a 400.
STATUS_BY_ERROR: Mapping[type[FileflowError], int] = {
    **auth_errors.ERROR_STATUS,
    **usage_errors.ERROR_STATUS,
    **uploads_errors.ERROR_STATUS,
    **files_errors.ERROR_STATUS,
    **hls_errors.ERROR_STATUS,
    **webhooks_errors.ERROR_STATUS,
    **reviews_errors.ERROR_STATUS,
    **core_errors.ERROR_STATUS,
    FileflowError: status.HTTP_400_BAD_REQUEST,
}


def status_for(error: FileflowError) -> int:
    return next(STATUS_BY_ERROR[cls] for cls in type(error).__mro__ if cls in STATUS_BY_ERROR)


def headers_for(error: FileflowError) -> dict[str, str] | None:
    return auth_errors.error_headers(error) or core_errors.error_headers(error)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


# Refusals an operator watches (docs/runbooks/user-over-quota.md): counted where they become answers.
REFUSAL_METRICS: Mapping[type[FileflowError], str] = {
    RateLimitedError: "RateLimitRefusals",
    QuotaExceededError: "QuotaRefusals",
}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FileflowError)
    for error_type, metric in REFUSAL_METRICS.items():
        if isinstance(exc, error_type):
            metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return JSONResponse(
        status_code=status_for(exc), content=error_body(exc.code, str(exc)), headers=headers_for(exc)
    )


async def _aws_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClientError | BotoCoreError)
    unavailable = core_errors.dependency_unavailable(exc)
    if unavailable is None:
        raise exc  # not a passing state of the dependency: the 500 handler logs it
    logger.warning(
        "a dependency is unavailable: answering 503",
        extra={
            "error_type": type(exc).__name__,
            "error_code": exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None,
            "operation": getattr(exc, "operation_name", None),
        },
    )
    return await _domain_error(request, unavailable)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    malformed = next((error for error in errors if error.get("type") == "json_invalid"), None)
    if malformed is not None:
        reason = (malformed.get("ctx") or {}).get("error", "")
        return JSONResponse(
            status_code=status.HTTP_400_BAD_REQUEST,
            content=error_body("MalformedJson", f"the request body is not valid JSON: {reason}".rstrip(": ")),
        )
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    location = ".".join(str(part) for part in first.get("loc", ()))
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            **error_body("InvalidRequest", f"{location}: {first.get('msg')}".lstrip(": ")),
            "detail": jsonable_encoder(errors),
        },
    )


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    # Starlette serves this from outside the middleware stack: the headers must be set here.
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content=error_body("InternalError", "internal error"),
        headers=SECURITY_HEADERS,
    )


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FileflowError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(ClientError, _aws_error)
    app.add_exception_handler(BotoCoreError, _aws_error)
    app.add_exception_handler(Exception, _unexpected_error)
