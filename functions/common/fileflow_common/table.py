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
# The analysis stage's duplicate index: one item per analysed image (or video poster) of the user.
IMAGE_HASH_PREFIX = "IMAGEHASH#"
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


def image_hash_item_key(user_id: str, file_id: str) -> ItemKey:
    """A file's image hashes: ``USER#{user_id}`` / ``IMAGEHASH#{file_id}`` (deleted with the file)."""
    return {
        PARTITION_KEY: USER_PREFIX + validate_id(user_id, kind="user_id"),
        SORT_KEY: IMAGE_HASH_PREFIX + validate_id(file_id, kind="file_id"),
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
