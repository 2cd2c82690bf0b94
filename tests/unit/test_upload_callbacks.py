"""Initiate's `priority` and `callback_url` (#12) against in-memory fakes: stored on the session and the
file item, or refused with a precise message before anything is created."""

from __future__ import annotations

import pytest

from fileflow_api.uploads.callbacks import check_priority
from fileflow_api.uploads.errors import CallbackWithoutEndpointError, InvalidPriorityError
from fileflow_api.uploads.model import BrowserUpload, NewUpload, UnknownSize
from fileflow_api.webhooks.errors import UnsafeWebhookUrlError
from fileflow_common.webhooks.targets import TargetPolicy
from tests.unit.upload_fakes import World, make_world

ALICE = "alice"
CALLBACK = "https://hooks.example.com/fileflow/once"


@pytest.fixture
def world() -> World:
    world = make_world()
    world.endpoints.enabled_users.add(ALICE)
    return world


def new_upload(**fields: object) -> NewUpload:
    return NewUpload("a.txt", 3, "text/plain", **fields)  # type: ignore[arg-type]


def test_priority_and_callback_are_stored_on_the_session_and_the_file_item(world: World) -> None:
    session = world.service.initiate(ALICE, new_upload(priority=2, callback_url=CALLBACK)).session
    stored = world.sessions.get(ALICE, session.upload_id)
    assert stored is not None
    assert (stored.priority, stored.callback_url) == (2, CALLBACK)
    declared = world.catalog.declared[session.file_id]
    assert (declared.priority, declared.callback_url) == (2, CALLBACK)


def test_without_them_the_priority_is_5_and_there_is_no_callback(world: World) -> None:
    session = world.service.initiate(ALICE, new_upload()).session
    assert (session.priority, session.callback_url) == (5, None)


def test_uppy_uploads_carry_them_too(world: World) -> None:
    upload = BrowserUpload("a.bin", "application/octet-stream", UnknownSize(), form_post=False, priority=9,
                           callback_url=CALLBACK)  # fmt: skip
    session = world.service.initiate(ALICE, upload).session
    assert (session.priority, session.callback_url) == (9, CALLBACK)


@pytest.mark.parametrize("priority", [0, 10, -1])
def test_a_priority_outside_1_to_9_is_refused_and_creates_nothing(world: World, priority: int) -> None:
    with pytest.raises(InvalidPriorityError) as refused:
        world.service.initiate(ALICE, new_upload(priority=priority))
    assert str(refused.value) == f"priority must be an integer from 1 to 9, not {priority}"
    assert (world.sessions.items, world.catalog.declared, world.quotas.usage(ALICE).files) == ({}, {}, 0)


@pytest.mark.parametrize("priority", [1, 9])
def test_the_bounds_are_allowed(priority: int) -> None:
    assert check_priority(priority) == priority


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:8080/hook",
            "webhook url must use https: http://127.0.0.1 and localhost are allowed only with the "
            "local-development setting (webhooks_allow_local_http), which is off",
        ),
        (
            "https://10.0.0.5/",
            "webhook url host 10.0.0.5 is a private address: webhooks go to public addresses only",
        ),
        (
            "https://169.254.169.254/latest",
            "webhook url host 169.254.169.254 is the cloud metadata service: "
            "webhooks go to public addresses only",
        ),
        ("ftp://hooks.example.com/", "webhook url must use https"),
    ],
    ids=["local-http", "private", "metadata", "not-https"],
)
def test_an_unsafe_callback_url_is_refused_with_the_guards_reason(
    world: World, url: str, message: str
) -> None:
    with pytest.raises(UnsafeWebhookUrlError) as refused:
        world.service.initiate(ALICE, new_upload(callback_url=url))
    assert (refused.value.code, str(refused.value)) == ("UnsafeWebhookUrl", message)
    assert world.sessions.items == {}


def test_local_http_is_allowed_with_the_local_development_setting() -> None:
    world = make_world(targets=TargetPolicy(allow_local_http=True))
    world.endpoints.enabled_users.add(ALICE)
    session = world.service.initiate(ALICE, new_upload(callback_url="http://127.0.0.1:8080/hook")).session
    assert session.callback_url == "http://127.0.0.1:8080/hook"


def test_a_callback_from_a_user_without_an_enabled_endpoint_is_refused(world: World) -> None:
    world.endpoints.enabled_users.clear()
    with pytest.raises(CallbackWithoutEndpointError) as refused:
        world.service.initiate(ALICE, new_upload(callback_url=CALLBACK))
    assert str(refused.value) == (
        "callback_url needs an enabled webhook endpoint (POST /v1/webhooks), whose secret signs the callback"
    )
    assert world.sessions.items == {}
    # And the same user may still upload without a callback
    assert world.service.initiate(ALICE, new_upload()).session.callback_url is None
