"""The one place where errors become HTTP responses.

FastAPI's own handlers stay in charge of 404/405 (HTTPException) and 422 (request validation).
"""

from collections.abc import Mapping

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from fileflow_api.identity import UnauthenticatedError
from fileflow_api.security import SECURITY_HEADERS
from fileflow_common.errors import FileflowError, InvalidIdentifierError
from fileflow_common.observability import logger

# Looked up along the exception's MRO, so a subclass inherits its parent's status.
STATUS_BY_ERROR: Mapping[type[FileflowError], int] = {
    UnauthenticatedError: status.HTTP_401_UNAUTHORIZED,
    InvalidIdentifierError: status.HTTP_400_BAD_REQUEST,
    FileflowError: status.HTTP_400_BAD_REQUEST,
}


def status_for(error: FileflowError) -> int:
    return next(STATUS_BY_ERROR[cls] for cls in type(error).__mro__ if cls in STATUS_BY_ERROR)


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FileflowError)
    return JSONResponse(status_code=status_for(exc), content=error_body(exc.code, str(exc)))


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
    app.add_exception_handler(Exception, _unexpected_error)
