from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from fileflow_api.health.model import DependencyUnavailableError
from fileflow_api.health.probes import BucketProbe, QueueProbe, TableProbe


class FakeDynamoDB:
    def __init__(self, table_status: str) -> None:
        self.table_status = table_status

    def describe_table(self, **_: Any) -> dict[str, Any]:
        return {"Table": {"TableName": "t", "TableStatus": self.table_status}}


class RaisingClient:
    """Any API call raises the given botocore exception."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, _operation: str) -> Any:
        def call(**_: Any) -> None:
            raise self.error

        return call


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "details"}}, operation)


def test_active_table_is_healthy() -> None:
    TableProbe(FakeDynamoDB("ACTIVE"), "t").probe()  # type: ignore[arg-type]


@pytest.mark.parametrize("table_status", ["CREATING", "UPDATING", "DELETING", "ARCHIVED"])
def test_table_that_is_not_active_is_unavailable(table_status: str) -> None:
    # Given a table that exists but is not ACTIVE / When probed / Then unavailable, naming the status
    with pytest.raises(DependencyUnavailableError) as raised:
        TableProbe(FakeDynamoDB(table_status), "t").probe()  # type: ignore[arg-type]
    assert raised.value.code == f"TableNotActive:{table_status}"


def test_missing_bucket_is_named_not_just_404() -> None:
    # Given HEAD bucket answers a bare 404 / When probed / Then the code says what it means
    with pytest.raises(DependencyUnavailableError) as raised:
        BucketProbe(RaisingClient(client_error("404", "HeadBucket")), "b").probe()  # type: ignore[arg-type]
    assert raised.value.code == "NoSuchBucket"


def test_client_error_code_is_reported() -> None:
    error = client_error("AWS.SimpleQueueService.NonExistentQueue", "GetQueueAttributes")
    with pytest.raises(DependencyUnavailableError) as raised:
        QueueProbe(RaisingClient(error), "https://sqs/1/q").probe()  # type: ignore[arg-type]
    assert raised.value.code == "AWS.SimpleQueueService.NonExistentQueue"


def test_unreachable_endpoint_is_reported_by_exception_name() -> None:
    # Given the endpoint cannot be reached / When probed / Then the botocore error type is the code
    error = EndpointConnectionError(endpoint_url="http://localhost:4566")
    with pytest.raises(DependencyUnavailableError) as raised:
        QueueProbe(RaisingClient(error), "http://localhost:4566/000000000000/q").probe()  # type: ignore[arg-type]
    assert raised.value.code == "EndpointConnectionError"
