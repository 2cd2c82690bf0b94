"""Primary keys of the single MetadataTable (docs/architecture.md, "DynamoDB").

Every id is validated, so a `#` or any other separator can never be smuggled into a key.
"""

from fileflow_common.keys import validate_id

PARTITION_KEY = "pk"
SORT_KEY = "sk"

USER_PREFIX = "USER#"
FILE_PREFIX = "FILE#"
JOB_PREFIX = "JOB#"
UPLOAD_PREFIX = "UPLOAD#"
RATE_WINDOW_PREFIX = "RATE#"
USAGE_SORT_KEY = "USAGE"

type ItemKey = dict[str, str]


def file_item_key(user_id: str, file_id: str) -> ItemKey:
    """A file: ``USER#{user_id}`` / ``FILE#{file_id}``."""
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: FILE_PREFIX + validate_id(file_id, kind="file_id"),
    }


def job_item_key(file_id: str, job_id: str) -> ItemKey:
    """A processing job: ``FILE#{file_id}`` / ``JOB#{job_id}``."""
    return {
        PARTITION_KEY: FILE_PREFIX + validate_id(file_id, kind="file_id"),
        SORT_KEY: JOB_PREFIX + validate_id(job_id, kind="job_id"),
    }


def upload_session_item_key(user_id: str, upload_id: str) -> ItemKey:
    """An upload session: ``USER#{user_id}`` / ``UPLOAD#{upload_id}``."""
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: UPLOAD_PREFIX + validate_id(upload_id, kind="upload_id"),
    }


def usage_item_key(user_id: str) -> ItemKey:
    """A user's usage counters (bytes, files) checked against the quotas: ``USER#{user_id}`` / ``USAGE``."""
    return {PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"), SORT_KEY: USAGE_SORT_KEY}


def rate_window_item_key(user_id: str, window_start: int) -> ItemKey:
    """A user's request count in one rate-limit window: ``USER#{user_id}`` / ``RATE#{epoch seconds}``."""
    if window_start < 0:
        raise ValueError("window_start is epoch seconds")
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: f"{RATE_WINDOW_PREFIX}{window_start}",
    }
