"""The webhooks capability's service with an in-memory store and queue: no AWS, no DNS (a fixed resolver)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fileflow_api.core.cursors import CursorCodec, InvalidCursorError
from fileflow_api.settings import ApiSettings
from fileflow_api.webhooks.errors import (
    UnknownDeliveryError,
    UnknownWebhookError,
    UnsafeWebhookUrlError,
    WebhookConflictError,
    WebhookLimitError,
)
from fileflow_api.webhooks.model import (
    Delivery,
    DeliveryPage,
    DeliveryQuery,
    Endpoint,
    EndpointChanges,
    EndpointSecret,
    FileDelivery,
)
from fileflow_api.webhooks.policy import WebhooksPolicy
from fileflow_api.webhooks.service import WebhookService
from fileflow_common.clock import to_timestamp
from fileflow_common.webhooks.events import AttemptMessage
from fileflow_common.webhooks.items import EndpointStatus
from fileflow_common.webhooks.targets import IPAddress, TargetPolicy
from tests.unit.test_settings import VALID_API_ENV

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = "user-alice"
EP = "ep_" + "a" * 24
DELIVERY = "1764590400000" + "0123456789abcdef"
ADDRESSES = {"hooks.example.com": "93.184.215.14", "internal.example.com": "10.1.2.3"}


def resolver(host: str, port: int) -> list[IPAddress]:
    return [ipaddress.ip_address(ADDRESSES[host])]


class FakeStore:
    def __init__(self, *, room: bool = True, rotations_refused: int = 0) -> None:
        self.endpoints_by_id: dict[str, Endpoint] = {}
        self.deliveries_by_id: dict[str, Delivery] = {}
        self.reads: list[str] = []
        self.room = room
        self.rotations_refused = rotations_refused

    def create(self, endpoint: Endpoint, *, max_endpoints: int) -> bool:
        if not self.room:
            return False
        self.endpoints_by_id[endpoint.endpoint_id] = endpoint
        return True

    def endpoints(self, user_id: str) -> list[Endpoint]:
        return [e for e in self.endpoints_by_id.values() if e.user_id == user_id]

    def endpoint(self, user_id: str, endpoint_id: str) -> Endpoint | None:
        self.reads.append(endpoint_id)
        found = self.endpoints_by_id.get(endpoint_id)
        return found if found and found.user_id == user_id else None

    def update(
        self, user_id: str, endpoint_id: str, changes: EndpointChanges, *, at: datetime
    ) -> Endpoint | None:
        found = self.endpoint(user_id, endpoint_id)
        if found is None:
            return None
        updated = replace(found, url=changes.url or found.url, updated_at=to_timestamp(at))
        self.endpoints_by_id[endpoint_id] = updated
        return updated

    def replace_secrets(
        self, endpoint: Endpoint, secrets: tuple[EndpointSecret, ...], *, at: datetime
    ) -> bool:
        if self.rotations_refused:
            self.rotations_refused -= 1
            return False
        self.endpoints_by_id[endpoint.endpoint_id] = replace(endpoint, secrets=secrets)
        return True

    def delete(self, user_id: str, endpoint_id: str) -> bool:
        return self.endpoints_by_id.pop(endpoint_id, None) is not None

    def deliveries(
        self,
        user_id: str,
        endpoint_id: str,
        query: DeliveryQuery,
        *,
        after: dict[str, str] | None,
        limit: int,
    ) -> DeliveryPage:
        return DeliveryPage(
            deliveries=list(self.deliveries_by_id.values())[:limit], next_position={"sk": "x"}
        )

    def delivery(self, user_id: str, endpoint_id: str, delivery_id: str) -> Delivery | None:
        found = self.deliveries_by_id.get(delivery_id)
        return found if found and (found.user_id, found.endpoint_id) == (user_id, endpoint_id) else None

    def file_deliveries(self, user_id: str, file_id: str) -> list[FileDelivery]:
        return []


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[AttemptMessage] = []

    def send(self, message: AttemptMessage) -> None:
        self.sent.append(message)


def endpoint(*secrets: EndpointSecret, user: str = USER) -> Endpoint:
    return Endpoint(
        user_id=user,
        endpoint_id=EP,
        url="https://hooks.example.com/in",
        events=("file.processed",),
        description="",
        status=EndpointStatus.ENABLED,
        secrets=secrets or (EndpointSecret("whsec_current", to_timestamp(NOW - timedelta(days=3))),),
        created_at=to_timestamp(NOW - timedelta(days=3)),
        updated_at=to_timestamp(NOW - timedelta(days=3)),
    )


def delivery(user: str = USER) -> Delivery:
    return Delivery(
        user_id=user,
        endpoint_id=EP,
        delivery_id=DELIVERY,
        webhook_id=f"msg_{DELIVERY}",
        event_id="evt_" + "0" * 32,
        event_type="file.processed",
        file_id=None,
        status="failed",
        attempts=(),
        created_at=None,
        updated_at=None,
        next_attempt_at=None,
        target_url=None,
        payload=None,
    )


def service(store: FakeStore, queue: FakeQueue | None = None, **policy: object) -> WebhookService:
    return WebhookService(
        store=store,
        queue=queue or FakeQueue(),
        cursors=CursorCodec(lambda: b"k" * 32, clock=lambda: NOW),
        policy=WebhooksPolicy(resolver=resolver, **policy),  # type: ignore[arg-type]
        clock=lambda: NOW,
        secrets=lambda: "whsec_new",
        endpoint_ids=lambda: EP,
    )


def test_create_resolves_the_host_and_refuses_a_name_that_resolves_to_a_private_address() -> None:
    store = FakeStore()
    with pytest.raises(UnsafeWebhookUrlError) as refused:
        service(store).create(
            USER, url="https://internal.example.com/in", events=("file.processed",), description=""
        )
    assert str(refused.value) == (
        "webhook url host internal.example.com resolves to 10.1.2.3, which is a private address: "
        "webhooks go to public addresses only"
    )
    assert store.endpoints_by_id == {}
    created = service(store).create(
        USER, url="https://hooks.example.com/in", events=("file.processed",), description="x"
    )
    assert (created.secret, created.endpoint.secrets) == (
        "whsec_new",
        (EndpointSecret("whsec_new", to_timestamp(NOW)),),
    )
    assert store.endpoints_by_id[EP] == created.endpoint


def test_create_past_the_limit_names_it() -> None:
    with pytest.raises(WebhookLimitError, match=r"^at most 3 webhook endpoints per user"):
        service(FakeStore(room=False), max_endpoints=3).create(
            USER, url="https://hooks.example.com/in", events=("file.processed",), description=""
        )


def test_rotation_expires_the_current_secret_after_the_overlap_and_drops_expired_ones() -> None:
    # Given the current secret, one rotated out and still signing, one rotated out and expired
    store = FakeStore()
    current = EndpointSecret("whsec_current", "2026-11-30T12:00:00.000Z")
    overlapping = EndpointSecret(
        "whsec_overlap", "2026-11-29T12:00:00.000Z", to_timestamp(NOW + timedelta(minutes=5))
    )
    expired = EndpointSecret(
        "whsec_expired", "2026-11-28T12:00:00.000Z", to_timestamp(NOW - timedelta(seconds=1))
    )
    store.endpoints_by_id[EP] = endpoint(current, overlapping, expired)
    # When it is rotated with the default overlap (the policy's)
    rotated = service(store, rotation_overlap=timedelta(hours=6)).rotate_secret(USER, EP)
    # Then the new secret is current, the old current one expires in 6 h, the expired one is gone
    assert rotated.secret == "whsec_new"
    assert store.endpoints_by_id[EP].secrets == (
        EndpointSecret("whsec_new", to_timestamp(NOW)),
        replace(current, expires_at=to_timestamp(NOW + timedelta(hours=6))),
        overlapping,
    )
    assert rotated.endpoint.secrets == store.endpoints_by_id[EP].secrets


def test_rotation_retries_a_concurrent_change_and_then_gives_up() -> None:
    store = FakeStore(rotations_refused=2)
    store.endpoints_by_id[EP] = endpoint()
    assert service(store).rotate_secret(USER, EP, overlap=timedelta(0)).secret == "whsec_new"
    store = FakeStore(rotations_refused=3)
    store.endpoints_by_id[EP] = endpoint()
    with pytest.raises(WebhookConflictError):
        service(store).rotate_secret(USER, EP)


@pytest.mark.parametrize("endpoint_id", ["ep_short", "../" + "a" * 24, "EP_" + "A" * 24, "ep_" + "a" * 25])
def test_a_malformed_endpoint_id_is_not_found_without_a_read(endpoint_id: str) -> None:
    store = FakeStore()
    with pytest.raises(UnknownWebhookError):
        service(store).get(USER, endpoint_id)
    with pytest.raises(UnknownWebhookError):
        service(store).delete(USER, endpoint_id)
    assert store.reads == []


def test_another_users_endpoint_is_not_found_and_an_unsafe_patch_changes_nothing() -> None:
    store = FakeStore()
    store.endpoints_by_id[EP] = endpoint(user="user-bob")
    with pytest.raises(UnknownWebhookError):
        service(store).update(USER, EP, EndpointChanges(description="mine"))
    store.endpoints_by_id[EP] = endpoint()
    with pytest.raises(UnsafeWebhookUrlError):
        service(store).update(USER, EP, EndpointChanges(url="https://internal.example.com/"))
    assert store.endpoints_by_id[EP].url == "https://hooks.example.com/in"


def test_redeliver_queues_a_manual_attempt_and_nothing_for_an_unknown_delivery() -> None:
    store, queue = FakeStore(), FakeQueue()
    store.endpoints_by_id[EP] = endpoint()
    store.deliveries_by_id[DELIVERY] = delivery()
    queued = service(store, queue).redeliver(USER, EP, DELIVERY)
    assert (queued.delivery_id, queued.webhook_id) == (DELIVERY, f"msg_{DELIVERY}")
    assert queue.sent == [AttemptMessage(user_id=USER, endpoint_id=EP, delivery_id=DELIVERY, manual=True)]
    store.deliveries_by_id[DELIVERY] = delivery(user="user-bob")
    with pytest.raises(UnknownDeliveryError):
        service(store, queue).redeliver(USER, EP, DELIVERY)
    with pytest.raises(UnknownDeliveryError):
        service(store, queue).redeliver(USER, EP, "not-a-delivery-id")
    assert len(queue.sent) == 1


def test_a_delivery_cursor_is_bound_to_its_endpoint() -> None:
    store = FakeStore()
    store.endpoints_by_id[EP] = endpoint()
    other = "ep_" + "b" * 24
    store.endpoints_by_id[other] = replace(endpoint(), endpoint_id=other)
    page = service(store).deliveries(USER, EP, DeliveryQuery(), cursor=None, limit=10)
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursorError):
        service(store).deliveries(USER, other, DeliveryQuery(), cursor=page.next_cursor, limit=10)


def test_settings_give_the_target_policy_and_the_rotation_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALID_API_ENV.items():
        monkeypatch.setenv(name, value)
    defaults = ApiSettings()  # type: ignore[call-arg]
    assert (
        defaults.webhook_targets,
        defaults.webhook_rotation_overlap_seconds,
        defaults.webhook_queue_url,
    ) == (
        TargetPolicy(allow_local_http=False),
        86_400,
        None,
    )
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOCAL_HTTP", "true")
    monkeypatch.setenv("WEBHOOK_ROTATION_OVERLAP_SECONDS", "60")
    monkeypatch.setenv(
        "WEBHOOK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/fileflow-webhooks"
    )
    configured = ApiSettings()  # type: ignore[call-arg]
    assert (configured.webhook_targets, configured.webhook_rotation_overlap_seconds) == (
        TargetPolicy(allow_local_http=True),
        60,
    )
    monkeypatch.setenv("WEBHOOK_ROTATION_OVERLAP_SECONDS", "604801")
    with pytest.raises(ValueError, match="webhook_rotation_overlap_seconds"):
        ApiSettings()  # type: ignore[call-arg]
