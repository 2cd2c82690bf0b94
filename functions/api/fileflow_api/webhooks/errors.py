"""The webhooks capability's errors and their HTTP statuses (docs/webhooks.md, "Errors")."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_common.errors import FileflowError


class UnknownWebhookError(FileflowError):
    """No such endpoint for this user (another user's, a deleted one, a malformed id: all the same)."""

    code = "WebhookNotFound"


class UnknownDeliveryError(FileflowError):
    """No such delivery of this endpoint for this user."""

    code = "DeliveryNotFound"


class UnsafeWebhookUrlError(FileflowError):
    """The URL may not receive webhooks (the SSRF guard's reason is the message)."""

    code = "UnsafeWebhookUrl"


class WebhookLimitError(FileflowError):
    """The user has as many endpoints as allowed: delete one first."""

    code = "WebhookLimitReached"


class WebhookConflictError(FileflowError):
    """The endpoint kept changing under concurrent writers; the request can be repeated."""

    code = "WebhookConflict"


class WebhooksUnavailableError(FileflowError):
    """No webhook queue is configured (WEBHOOK_QUEUE_URL): nothing can be (re)delivered."""

    code = "WebhooksUnavailable"


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    UnknownWebhookError: HTTPStatus.NOT_FOUND,
    UnknownDeliveryError: HTTPStatus.NOT_FOUND,
    UnsafeWebhookUrlError: HTTPStatus.UNPROCESSABLE_CONTENT,
    WebhookLimitError: HTTPStatus.CONFLICT,
    WebhookConflictError: HTTPStatus.CONFLICT,
    WebhooksUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
}
