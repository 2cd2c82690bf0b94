"""Errors any route can raise: a malformed id in the path, a pagination cursor that is not ours."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_common.errors import FileflowError, InvalidIdentifierError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    InvalidIdentifierError: HTTPStatus.BAD_REQUEST,
    InvalidCursorError: HTTPStatus.BAD_REQUEST,
}
