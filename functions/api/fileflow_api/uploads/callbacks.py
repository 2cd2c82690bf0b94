"""An upload's `priority` and `callback_url`, checked at initiate. No boto3.

A callback is delivered like any webhook: signed with the secrets of the user's default endpoint (the
oldest enabled one, fileflow_common.webhooks.items), so a user without an enabled endpoint cannot ask
for one. The URL passes the same SSRF guard as an endpoint's, here and again at every delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fileflow_api.uploads.errors import CallbackWithoutEndpointError, InvalidPriorityError
from fileflow_api.uploads.model import MAX_PRIORITY, MIN_PRIORITY
from fileflow_api.webhooks.errors import UnsafeWebhookUrlError
from fileflow_common.webhooks.targets import (
    Resolver,
    TargetPolicy,
    UnsafeTargetError,
    check_target,
    system_resolver,
)


class WebhookEndpoints(Protocol):
    def has_enabled_endpoint(self, user_id: str) -> bool:
        """Whether the user has at least one enabled webhook endpoint."""
        ...


def check_priority(priority: int) -> int:
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise InvalidPriorityError(
            f"priority must be an integer from {MIN_PRIORITY} to {MAX_PRIORITY}, not {priority}"
        )
    return priority


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    endpoints: WebhookEndpoints
    targets: TargetPolicy = field(default_factory=TargetPolicy)
    # How the URL's host is resolved (tests give a fixed one: no DNS).
    resolver: Resolver = system_resolver

    def check(self, user_id: str, url: str) -> str:
        """The callback URL to store; 422 when the guard refuses it or no endpoint would sign it."""
        try:
            check_target(url, self.targets, self.resolver)
        except UnsafeTargetError as exc:
            raise UnsafeWebhookUrlError(str(exc)) from None
        if not self.endpoints.has_enabled_endpoint(user_id):
            raise CallbackWithoutEndpointError(
                "callback_url needs an enabled webhook endpoint (POST /v1/webhooks), whose secret signs "
                "the callback"
            )
        return url
