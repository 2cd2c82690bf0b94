import pytest

from fileflow_common.errors import InvalidIdentifierError
from fileflow_common.table import file_item_key, job_item_key, upload_session_item_key


def test_file_item_key() -> None:
    # Given a user and a file / When the item key is built / Then it is USER#uid / FILE#fid
    assert file_item_key("user-alice", "file-0001") == {"pk": "USER#user-alice", "sk": "FILE#file-0001"}


def test_job_item_key() -> None:
    assert job_item_key("file-0001", "job_7") == {"pk": "FILE#file-0001", "sk": "JOB#job_7"}


def test_upload_session_item_key() -> None:
    assert upload_session_item_key("user-alice", "up-1") == {"pk": "USER#user-alice", "sk": "UPLOAD#up-1"}


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda hostile: file_item_key(hostile, "file-0001"), id="file-user"),
        pytest.param(lambda hostile: file_item_key("user-alice", hostile), id="file-file"),
        pytest.param(lambda hostile: job_item_key(hostile, "job-1"), id="job-file"),
        pytest.param(lambda hostile: job_item_key("file-0001", hostile), id="job-job"),
        pytest.param(lambda hostile: upload_session_item_key(hostile, "up-1"), id="upload-user"),
        pytest.param(lambda hostile: upload_session_item_key("user-alice", hostile), id="upload-upload"),
    ],
)
@pytest.mark.parametrize("hostile", ["alice#FILE#other", "", "a" * 65, "alice\n", "bob/../alice"])
def test_hostile_ids_never_reach_a_key(build, hostile: str) -> None:
    # Given an id that could forge another entity's key / When building / Then it is refused
    with pytest.raises(InvalidIdentifierError):
        build(hostile)
