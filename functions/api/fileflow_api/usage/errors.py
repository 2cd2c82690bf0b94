"""The usage capability's errors: a quota that an upload would pass."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_api.usage.quotas import QuotaExceededError
from fileflow_common.errors import FileflowError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    QuotaExceededError: HTTPStatus.FORBIDDEN,
}
