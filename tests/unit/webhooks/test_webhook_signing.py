"""Signatures: Standard Webhooks' own verifier accepts them, with every live secret during a rotation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from fileflow_common.webhooks.items import new_secret
from fileflow_webhooks.model import Endpoint, Secret
from fileflow_webhooks.signing import NoLiveSecretError, signed_headers

BODY = (
    '{"data":{"file_id":"f1","status":"processed"},'
    '"timestamp":"2026-12-02T01:00:00.000Z","type":"file.processed"}'
)


def _endpoint(*secrets: Secret) -> Endpoint:
    return Endpoint(
        user_id="alice",
        endpoint_id="ep_1",
        url="https://hooks.example.com/in",
        events=("file.processed",),
        enabled=True,
        secrets=secrets,
        created_at="2026-12-01T00:00:00.000Z",
    )


def test_a_signed_request_verifies_with_the_endpoint_secret() -> None:
    # Given an endpoint's secret and a body
    secret = new_secret()
    # When the sender signs it now
    headers = signed_headers("msg_1", int(time.time()), BODY, [secret])
    # Then the Standard Webhooks library verifies it with that secret and returns the payload
    assert Webhook(secret).verify(BODY, headers)["data"]["file_id"] == "f1"
    assert headers["webhook-id"] == "msg_1"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Fileflow-Webhooks/1"
    # And another secret, or a changed body, does not verify
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("f1", "f2"), headers)


def test_during_a_rotation_both_secrets_verify_and_an_expired_one_is_left_out() -> None:
    # Given an endpoint whose secret was rotated: the new one current, the old one in its overlap,
    # and an older one whose overlap is over
    now = datetime.now(UTC)
    old, new, expired = new_secret(), new_secret(), new_secret()
    endpoint = _endpoint(
        Secret(expired, now - timedelta(days=9), expires_at=now - timedelta(seconds=1)),
        Secret(old, now - timedelta(days=2), expires_at=now + timedelta(hours=1)),
        Secret(new, now - timedelta(minutes=1)),
    )
    # When a request is signed with the endpoint's live secrets
    live = endpoint.live_secrets(now)
    headers = signed_headers("msg_2", int(now.timestamp()), BODY, live)
    # Then it carries two v1 signatures (the current one first), and each secret verifies on its own
    assert live == [new, old]
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert all(signature.startswith("v1,") for signature in signatures)
    for secret in (new, old):
        Webhook(secret).verify(BODY, headers)
    # And the expired secret does not
    with pytest.raises(WebhookVerificationError):
        Webhook(expired).verify(BODY, headers)


def test_nothing_is_signed_without_a_live_secret() -> None:
    # Given an endpoint whose only secret expired
    now = datetime.now(UTC)
    endpoint = _endpoint(Secret(new_secret(), now - timedelta(days=3), expires_at=now - timedelta(days=1)))
    # Then the sender refuses to sign (an unsigned request never leaves)
    with pytest.raises(NoLiveSecretError):
        signed_headers("msg_3", int(now.timestamp()), BODY, endpoint.live_secrets(now))
