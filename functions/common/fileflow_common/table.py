"""Primary keys of the single MetadataTable (docs/architecture.md, "DynamoDB").

Every id is validated, so a `#` or any other separator can never be smuggled into a key.
"""

import unicodedata

from fileflow_common.keys import validate_id

PARTITION_KEY = "pk"
SORT_KEY = "sk"

USER_PREFIX = "USER#"
FILE_PREFIX = "FILE#"
JOB_PREFIX = "JOB#"
UPLOAD_PREFIX = "UPLOAD#"
RATE_WINDOW_PREFIX = "RATE#"
USAGE_SORT_KEY = "USAGE"
# Set on the tombstone a deleted file leaves (DELETE /v1/files/{id}): no writer may bring the file back.
DELETED_AT = "deleted_at"
# The condition of every write that must not bring a deleted file back.
NOT_DELETED = f"attribute_not_exists({DELETED_AT})"

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


# --- file listing indexes (docs/architecture.md, "Access patterns") ---------------------------------------
# gsi1 is shared with the upload sweeper (partition "UPLOADS#initiated"); files use "FILES#{user_id}".
FILES_BY_CREATED_INDEX = "gsi1"
FILES_BY_STATUS_INDEX = "gsi2"
FILES_BY_NAME_INDEX = "gsi3"
FILES_INDEX_PREFIX = "FILES#"
TAG_PREFIX = "TAG#"
# Below every character a stored filename may hold (control characters are refused), so names sort
# as names: "a" before "a b" before "ab".
NAME_KEY_SEPARATOR = "\x01"
# A GSI sort key holds at most 1024 bytes: a name key is cut to this many characters (4 bytes each at most).
NAME_KEY_MAX_CHARS = 200


def files_partition(user_id: str) -> str:
    """The index partition of a user's files (gsi1 by creation date, gsi3 by name)."""
    return FILES_INDEX_PREFIX + validate_id(user_id, kind="user_id")


def files_status_partition(user_id: str, status: str) -> str:
    """The gsi2 partition of a user's files in one status: every writer of `status` writes it too."""
    return f"{files_partition(user_id)}#{status}"


def file_status_attributes(user_id: str, status: str) -> dict[str, str]:
    """What a writer of the file item's `status` sets with it, so the status index follows."""
    return {"status": status, "gsi2pk": files_status_partition(user_id, status)}


def name_key(filename: str) -> str:
    """How names are compared, sorted and searched: case-insensitive, Unicode-normalised."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", filename).casefold())


def created_sort_key(created_at: str, file_id: str) -> str:
    return f"{created_at}#{validate_id(file_id, kind='file_id')}"


def name_sort_key(name_key: str, file_id: str) -> str:
    return f"{name_key[:NAME_KEY_MAX_CHARS]}{NAME_KEY_SEPARATOR}{validate_id(file_id, kind='file_id')}"


def file_index_attributes(user_id: str, file_id: str, *, created_at: str, name_key: str) -> dict[str, str]:
    """The file item's index keys that never change (gsi1, gsi3, and gsi2's sort key)."""
    partition = files_partition(user_id)
    by_created = created_sort_key(created_at, file_id)
    return {
        "gsi1pk": partition,
        "gsi1sk": by_created,
        "gsi2sk": by_created,
        "gsi3pk": partition,
        "gsi3sk": name_sort_key(name_key, file_id),
    }


def tag_item_key(user_id: str, tag: str, created_at: str, file_id: str) -> ItemKey:
    """A file's tag: ``USER#{user_id}`` / ``TAG#{tag}#{created_at}#{file_id}`` (newest last)."""
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: f"{TAG_PREFIX}{tag}#{created_sort_key(created_at, file_id)}",
    }


# --- AI analysis (docs/ai.md): written by the AI stage, read by it and by GET /v1/usage -------------------
AI_USAGE_DAY_PREFIX = "AIUSAGE#DAY#"
AI_USAGE_GLOBAL_PARTITION = "AIUSAGE#GLOBAL"
AI_USAGE_MONTH_PREFIX = "MONTH#"
AI_BUDGET_SORT_KEY = "AIBUDGET"
AI_CACHE_PREFIX = "AICACHE#"
AI_CACHE_GLOBAL = "GLOBAL"
AI_CIRCUIT_KEY: ItemKey = {PARTITION_KEY: "AICIRCUIT", SORT_KEY: "anthropic"}
# The AI usage counters, integers: tokens, calls, cache hits, and the cost in micro-dollars (USD x 10^6).
AI_USAGE_COUNTERS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cost_micro_usd",
    "calls",
    "cache_hits",
)


def ai_usage_day_key(user_id: str, day: str) -> ItemKey:
    """A user's AI usage on one UTC day (``yyyy-mm-dd``): ``USER#{id}`` / ``AIUSAGE#DAY#{day}``."""
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: AI_USAGE_DAY_PREFIX + day,
    }


def ai_usage_month_key(month: str) -> ItemKey:
    """Everyone's AI usage in one UTC month (``yyyy-mm``): ``AIUSAGE#GLOBAL`` / ``MONTH#{month}``."""
    return {PARTITION_KEY: AI_USAGE_GLOBAL_PARTITION, SORT_KEY: AI_USAGE_MONTH_PREFIX + month}


def ai_budget_key(user_id: str) -> ItemKey:
    """An operator's override of one user's daily AI budget: ``USER#{id}`` / ``AIBUDGET``."""
    return {PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"), SORT_KEY: AI_BUDGET_SORT_KEY}


def ai_cache_key(scope: str, cache_id: str) -> ItemKey:
    """A cached Claude result: ``AICACHE#{user id | GLOBAL}`` / ``{sha256}#{prompt}#{model}#{kind}``."""
    return {PARTITION_KEY: AI_CACHE_PREFIX + scope, SORT_KEY: cache_id}
