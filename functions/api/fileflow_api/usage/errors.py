"""The usage capability's errors: a quota that an upload would pass."""

from collections.abc import Mapping

from fastapi import status

from fileflow_api.usage.quotas import QuotaExceededError
from fileflow_common.errors import FileflowError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    QuotaExceededError: status.HTTP_403_FORBIDDEN,
}
