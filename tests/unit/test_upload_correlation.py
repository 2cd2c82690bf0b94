"""UploadService: the initiating request's correlation id reaches the session, the file item and S3."""

from __future__ import annotations

from fileflow_api.uploads.model import BrowserUpload, DeclaredSize, NewUpload, UnknownSize
from fileflow_api.uploads.part_plan import MiB
from tests.unit.upload_fakes import make_world

ALICE = "user-alice"
CORRELATION_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_every_initiate_carries_the_correlation_id_to_the_session_the_file_and_the_object() -> None:
    world = make_world()
    single = world.service.initiate(
        ALICE, NewUpload(filename="a.txt", size=10, content_type="text/plain", correlation_id=CORRELATION_ID)
    ).session
    multipart = world.service.initiate(
        ALICE,
        NewUpload(
            filename="b.bin", size=20 * MiB, content_type="application/octet-stream", correlation_id="m1"
        ),
    ).session
    uppy = world.service.initiate(
        ALICE,
        BrowserUpload(
            "c.bin", "application/octet-stream", UnknownSize(), form_post=False, correlation_id="u1"
        ),
    ).session
    form = world.service.initiate(
        ALICE, BrowserUpload("d.png", "image/png", DeclaredSize(4), form_post=True, correlation_id="f1")
    ).session
    expected = {single: CORRELATION_ID, multipart: "m1", uppy: "u1", form: "f1"}
    for session, correlation_id in expected.items():
        assert session.correlation_id == correlation_id
        assert world.sessions.get(ALICE, session.upload_id) == session
        assert world.catalog.declared[session.file_id].correlation_id == correlation_id
    # And S3 gets it where the client sends nothing more: the multipart uploads and the form POST
    assert world.s3.correlation_ids == {multipart.key: "m1", uppy.key: "u1", form.key: "f1"}


def test_a_direct_caller_without_a_correlation_id_stores_none() -> None:
    world = make_world()
    session = world.service.initiate(
        ALICE, NewUpload(filename="a.txt", size=10, content_type="text/plain")
    ).session
    assert session.correlation_id is None
    assert world.catalog.declared[session.file_id].correlation_id is None
