"""Webhooks, the rules: how many endpoints, how long a rotated-out secret lives, where webhooks may go."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from fileflow_api.webhooks.errors import UnsafeWebhookUrlError
from fileflow_common.webhooks.targets import (
    Resolver,
    TargetPolicy,
    UnsafeTargetError,
    check_target,
    system_resolver,
)

MAX_ENDPOINTS: Final = 20
MAX_DESCRIPTION: Final = 200
MAX_ROTATION_OVERLAP_SECONDS: Final = 7 * 86_400
DEFAULT_ROTATION_OVERLAP_SECONDS: Final = 86_400
# fileflow_common.webhooks.items: new_endpoint_id() and delivery_id_for().
ENDPOINT_ID = re.compile(r"ep_[0-9a-f]{24}")
DELIVERY_ID = re.compile(r"[0-9]{13}[0-9a-f]{16}")


@dataclass(frozen=True, slots=True)
class WebhooksPolicy:
    max_endpoints: int = MAX_ENDPOINTS
    rotation_overlap: timedelta = timedelta(seconds=DEFAULT_ROTATION_OVERLAP_SECONDS)
    targets: TargetPolicy = field(default_factory=TargetPolicy)
    # How a registration resolves the URL's host (tests give a fixed one: no DNS).
    resolver: Resolver = system_resolver

    def check_url(self, url: str) -> str:
        """The URL as registered; UnsafeWebhookUrlError (422) with the guard's reason otherwise."""
        try:
            check_target(url, self.targets, self.resolver)
        except UnsafeTargetError as exc:
            raise UnsafeWebhookUrlError(str(exc)) from None
        return url
