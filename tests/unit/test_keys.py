import pytest

from fileflow_common.errors import ForeignObjectKeyError, InvalidIdentifierError
from fileflow_common.keys import (
    DerivedKey,
    UploadKey,
    derived_key,
    parse_object_key,
    upload_key,
)

HOSTILE_IDS = [
    pytest.param("", id="empty"),
    pytest.param("a" * 65, id="too-long"),
    pytest.param("..", id="dot-dot"),
    pytest.param("../etc", id="traversal"),
    pytest.param("alice/bob", id="slash"),
    pytest.param("alice\n", id="trailing-newline"),
    pytest.param(" alice", id="leading-space"),
    pytest.param("al ice", id="inner-space"),
    pytest.param("alice#FILE", id="table-separator"),
    pytest.param("alice%2Fbob", id="percent-encoded"),
    pytest.param("alice\x00", id="nul"),
    pytest.param("ålice", id="non-ascii-letter"),
    pytest.param("ａlice", id="fullwidth-letter"),  # noqa: RUF001 - the confusable is the point
    pytest.param("alice.txt", id="dot"),
]


def test_upload_key_follows_the_layout() -> None:
    # Given valid ids / When the key is built / Then it is uploads/{user_id}/{file_id}
    assert upload_key("user-alice", "file_0001") == "uploads/user-alice/file_0001"


def test_derived_key_follows_the_layout() -> None:
    assert (
        derived_key("user-alice", "file-0001", "thumb.256.jpg")
        == "derived/user-alice/file-0001/thumb.256.jpg"
    )


def test_longest_allowed_id_is_accepted() -> None:
    # Given a 64-character id (the maximum)
    longest = "A" * 64
    # When / Then it builds a key
    assert upload_key(longest, longest) == f"uploads/{longest}/{longest}"


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_user_id_is_rejected(hostile: str) -> None:
    # Given an id outside [A-Za-z0-9_-]{1,64} / When building a key / Then it is refused
    with pytest.raises(InvalidIdentifierError):
        upload_key(hostile, "file-0001")


@pytest.mark.parametrize("hostile", HOSTILE_IDS)
def test_hostile_file_id_is_rejected(hostile: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        derived_key("user-alice", hostile, "thumb.jpg")


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b", "a b", "-flag", "x" * 129])
def test_hostile_derived_name_is_rejected(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        derived_key("user-alice", "file-0001", name)


def test_parse_round_trips_an_upload_key() -> None:
    # Given a built key / When parsed / Then the ids come back
    parsed = parse_object_key(upload_key("user-alice", "file-0001"))
    assert parsed == UploadKey(user_id="user-alice", file_id="file-0001")
    assert parsed.key == "uploads/user-alice/file-0001"


def test_parse_round_trips_a_derived_key() -> None:
    parsed = parse_object_key("derived/user-alice/file-0001/thumb.jpg")
    assert parsed == DerivedKey(user_id="user-alice", file_id="file-0001", name="thumb.jpg")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "uploads",
        "uploads/",
        "uploads/user-alice",
        "uploads/user-alice/",
        "uploads/user-alice/file-0001/",
        "uploads/user-alice/file-0001/extra",
        "uploads//file-0001",
        "uploads/../file-0001",
        "uploads/user alice/file-0001",
        "/uploads/user-alice/file-0001",
        "Uploads/user-alice/file-0001",
        "derived/user-alice/file-0001",
        "derived/user-alice/file-0001/../../x",
        "tmp/user-alice/file-0001",
    ],
)
def test_parse_rejects_foreign_keys(key: str) -> None:
    # Given a key outside the layout / When parsed / Then a domain error says so
    with pytest.raises(ForeignObjectKeyError):
        parse_object_key(key)
