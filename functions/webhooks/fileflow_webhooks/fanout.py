"""Fan-out: one event -> one delivery per enabled endpoint subscribed to its type (and one to the upload's
callback_url, under the default endpoint), each created at most once, then its first attempt queued."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fileflow_common.clock import from_timestamp, to_timestamp, utc_now
from fileflow_common.observability import logger
from fileflow_common.webhooks.events import AttemptMessage, EventMessage, payload
from fileflow_common.webhooks.items import DeliveryStatus, delivery_id_for, fanout_guard_sk, webhook_id
from fileflow_webhooks.model import Delivery, Endpoint
from fileflow_webhooks.ports import AttemptQueue, DeliveryStore, EndpointStore

CALLBACK_PREFIX = "callback:"


@dataclass(frozen=True)
class FannedOut:
    created: int = 0
    # Deliveries an earlier run of this event already created.
    existing: int = 0


def default_endpoint(endpoints: list[Endpoint]) -> Endpoint | None:
    """The user's oldest enabled endpoint: an upload's callback deliveries are stored under it."""
    enabled = [endpoint for endpoint in endpoints if endpoint.enabled]
    return min(enabled, key=lambda endpoint: (endpoint.created_at, endpoint.endpoint_id), default=None)


@dataclass
class FanOut:
    endpoints: EndpointStore
    deliveries: DeliveryStore
    queue: AttemptQueue
    clock: Callable[[], datetime] = utc_now

    def handle(self, message: EventMessage) -> FannedOut:
        endpoints = self.endpoints.endpoints(message.user_id)
        # (the endpoint it is stored under, the key of its guard and id, the callback URL)
        targets: list[tuple[Endpoint, str, str | None]] = [
            (endpoint, endpoint.endpoint_id, None)
            for endpoint in endpoints
            if endpoint.subscribed(message.type.value)
        ]
        if message.callback_url is not None:
            default = default_endpoint(endpoints)
            if default is None:
                logger.warning("callback_url without an enabled endpoint: not delivered")
            else:
                targets.append((default, CALLBACK_PREFIX + default.endpoint_id, message.callback_url))
        created = existing = 0
        for endpoint, target_key, callback_url in targets:
            delivery = self._delivery(message, endpoint, target_key, callback_url)
            earlier = self.deliveries.create(delivery, fanout_guard_sk(message.event_id, target_key))
            if earlier is None:
                created += 1
            else:
                existing += 1
                # An earlier run may have stopped between the write and the send: queue that delivery
                # again unless it was attempted (a duplicate of attempt 1 is dropped by its number).
                stored = self.deliveries.get(delivery.user_id, delivery.endpoint_id, earlier)
                if stored is None or stored.status is not DeliveryStatus.PENDING or stored.attempts:
                    continue
                delivery = stored
            self.queue.send(
                AttemptMessage(
                    user_id=delivery.user_id,
                    endpoint_id=delivery.endpoint_id,
                    delivery_id=delivery.delivery_id,
                    attempt=1,
                )
            )
        logger.info(
            "event fanned out",
            extra={
                "event_id": message.event_id,
                "event_type": message.type.value,
                "deliveries_created": created,
            },
        )
        return FannedOut(created=created, existing=existing)

    def _delivery(
        self, message: EventMessage, endpoint: Endpoint, target_key: str, callback_url: str | None
    ) -> Delivery:
        created_ms = int(from_timestamp(message.occurred_at).timestamp() * 1000)
        delivery_id = delivery_id_for(message.event_id, target_key, created_ms=created_ms)
        return Delivery(
            user_id=message.user_id,
            endpoint_id=endpoint.endpoint_id,
            delivery_id=delivery_id,
            webhook_id=webhook_id(delivery_id),
            event_id=message.event_id,
            event_type=message.type.value,
            payload=payload(message).decode(),
            status=DeliveryStatus.PENDING,
            created_at=to_timestamp(self.clock()),
            file_id=message.data.file_id,
            correlation_id=message.data.correlation_id,
            target_url=callback_url,
        )
