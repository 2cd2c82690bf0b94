"""Errors any route can raise: a malformed id in the path, a pagination cursor that is not ours."""

from collections.abc import Mapping

from fastapi import status

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_common.errors import FileflowError, InvalidIdentifierError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    InvalidIdentifierError: status.HTTP_400_BAD_REQUEST,
    InvalidCursorError: status.HTTP_400_BAD_REQUEST,
}
