"""Errors any route can raise: a malformed id in the path, a pagination cursor that is not ours, and a
dependency (DynamoDB, S3) that is throttling or failing, which answers 503 with Retry-After."""

from collections.abc import Mapping
from http import HTTPStatus

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from fileflow_api.core.cursors import InvalidCursorError
from fileflow_common.errors import FileflowError, InvalidIdentifierError

# The error codes AWS answers a throttled request with (botocore's standard retry mode retries the same
# names before the error reaches us): DynamoDB's, S3's SlowDown, and the generic ones.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
# Why DynamoDB cancels a transaction when it is busy rather than refusing it (CancellationReasons' codes).
BUSY_TRANSACTION_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"}
)
# The waits a client is told (Retry-After): a throttled dependency needs longer than a failed request.
THROTTLED_RETRY_AFTER_SECONDS = 2
UNAVAILABLE_RETRY_AFTER_SECONDS = 1


class ServiceUnavailableError(FileflowError):
    """A dependency (DynamoDB, S3) is throttling or failing even after the SDK's retries: the same
    request may succeed shortly, so clients are told when to retry (503, Retry-After)."""

    code = "ServiceUnavailable"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    InvalidIdentifierError: HTTPStatus.BAD_REQUEST,
    InvalidCursorError: HTTPStatus.BAD_REQUEST,
    ServiceUnavailableError: HTTPStatus.SERVICE_UNAVAILABLE,
}


def error_headers(error: FileflowError) -> dict[str, str] | None:
    if isinstance(error, ServiceUnavailableError):
        return {"Retry-After": str(error.retry_after_seconds)}
    return None


def dependency_unavailable(exc: ClientError | BotoCoreError) -> ServiceUnavailableError | None:
    """The 503 for an AWS error that is the dependency's momentary state (throttling, a 5xx, no
    connection); None for any other (a bug or a misconfiguration: a 500). Decided by codes and statuses,
    never by message text."""
    if isinstance(exc, AwsConnectionError | HTTPClientError):
        return ServiceUnavailableError(
            "the service is temporarily unavailable (a dependency could not be reached); retry shortly",
            retry_after_seconds=UNAVAILABLE_RETRY_AFTER_SECONDS,
        )
    if not isinstance(exc, ClientError):
        return None
    code = str(exc.response.get("Error", {}).get("Code", ""))
    reasons = {str(reason.get("Code")) for reason in exc.response.get("CancellationReasons", [])}
    busy_transaction = code == "TransactionCanceledException" and reasons & BUSY_TRANSACTION_REASONS
    if code in THROTTLING_CODES or (busy_transaction and "ConditionalCheckFailed" not in reasons):
        return ServiceUnavailableError(
            "the service is busy (a dependency is throttling requests); retry shortly",
            retry_after_seconds=THROTTLED_RETRY_AFTER_SECONDS,
        )
    if int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500:
        return ServiceUnavailableError(
            "the service is temporarily unavailable (a dependency failed); retry shortly",
            retry_after_seconds=UNAVAILABLE_RETRY_AFTER_SECONDS,
        )
    return None
