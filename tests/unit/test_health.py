from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fileflow_api.app import create_app
from fileflow_api.core.security import SECURITY_HEADERS
from fileflow_api.health.model import DependencyUnavailableError
from fileflow_api.health.routes import HealthChecker
from fileflow_common.errors import InvalidIdentifierError
from tests.unit.api_dependencies import api_dependencies

ALLOWED_ORIGIN = "https://app.example.com"


@dataclass
class FakeProbe:
    name: str
    failure: Exception | None = None
    calls: int = 0

    def probe(self) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure


def build_app(*probes: FakeProbe) -> FastAPI:
    return create_app(api_dependencies(probes=probes), allowed_origins=[ALLOWED_ORIGIN])


@pytest.fixture
def healthy_probes() -> list[FakeProbe]:
    return [FakeProbe("bucket"), FakeProbe("table"), FakeProbe("queue")]


@pytest.fixture
def client(healthy_probes: list[FakeProbe]) -> Iterator[TestClient]:
    with TestClient(build_app(*healthy_probes), raise_server_exceptions=False) as test_client:
        yield test_client


def assert_security_headers(headers: object) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]


def test_all_dependencies_ok_gives_200(client: TestClient, healthy_probes: list[FakeProbe]) -> None:
    # Given three reachable dependencies
    # When /health is called
    response = client.get("/health")
    # Then 200, every check ok with a latency, and every probe really ran
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"bucket", "table", "queue"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0
        assert "error" not in check
    assert [probe.calls for probe in healthy_probes] == [1, 1, 1]


def test_one_failing_dependency_gives_503_naming_it() -> None:
    # Given the queue is gone
    app = build_app(
        FakeProbe("bucket"),
        FakeProbe("table"),
        FakeProbe("queue", DependencyUnavailableError("AWS.SimpleQueueService.NonExistentQueue")),
    )
    # When /health is called
    response = TestClient(app).get("/health")
    # Then 503 "degraded", the queue check carries the error code, the others stay ok
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["queue"]["status"] == "error"
    assert body["checks"]["queue"]["error"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert body["checks"]["bucket"]["status"] == "ok"
    assert body["checks"]["table"]["status"] == "ok"


def test_crashing_probe_reports_its_exception_type_never_its_details() -> None:
    # Given a probe that blows up with sensitive details in the message
    app = build_app(FakeProbe("bucket", RuntimeError("secret arn:aws:iam::123456789012:role/x")))
    # When /health is called
    response = TestClient(app).get("/health")
    # Then the endpoint still answers 503 with only the exception type
    assert response.status_code == 503
    check = response.json()["checks"]["bucket"]
    assert (check["status"], check["error"]) == ("error", "RuntimeError")
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_latency_is_measured_per_check_in_milliseconds() -> None:
    # Given a clock that advances 12.3 ms during the probe
    ticks = iter([10.0, 10.0123])
    checker = HealthChecker([FakeProbe("table")], timer=lambda: next(ticks))
    # When the checks run
    report = checker.run()
    # Then the latency is reported in ms
    assert report.checks["table"].latency_ms == 12.3


def test_security_headers_on_every_response(client: TestClient) -> None:
    # Given the app / When a known and an unknown route are called / Then both carry the headers
    assert_security_headers(client.get("/health").headers)
    assert_security_headers(client.get("/no-such-route").headers)


def test_unknown_route_keeps_fastapi_404(client: TestClient) -> None:
    response = client.get("/no-such-route")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_validation_error_keeps_fastapi_422(healthy_probes: list[FakeProbe]) -> None:
    # Given a route with a typed path parameter
    app = build_app(*healthy_probes)

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    # When it gets a non-integer
    response = TestClient(app).get("/items/abc")
    # Then FastAPI's precise validation body is untouched
    assert response.status_code == 422
    [detail] = response.json()["detail"]
    assert detail["type"] == "int_parsing"
    assert detail["loc"] == ["path", "item_id"]


def test_domain_error_maps_to_http_in_one_place(healthy_probes: list[FakeProbe]) -> None:
    # Given a route that raises a domain error
    app = build_app(*healthy_probes)

    @app.get("/boom")
    def boom() -> None:
        raise InvalidIdentifierError("user_id must match [A-Za-z0-9_-]{1,64}")

    # When it is called
    response = TestClient(app).get("/boom")
    # Then the exception handler answers 400 with the error code
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "InvalidIdentifier", "message": "user_id must match [A-Za-z0-9_-]{1,64}"}
    }


def test_unexpected_error_is_an_opaque_500_with_security_headers(healthy_probes: list[FakeProbe]) -> None:
    # Given a route with a bug
    app = build_app(*healthy_probes)

    @app.get("/bug")
    def bug() -> None:
        raise KeyError("internal detail")

    # When it is called
    response = TestClient(app, raise_server_exceptions=False).get("/bug")
    # Then a JSON 500 without internals
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "InternalError", "message": "internal error"}}
    assert "internal detail" not in response.text
    assert_security_headers(response.headers)


def test_cors_preflight_allows_only_configured_origins(client: TestClient) -> None:
    # Given ALLOWED_ORIGINS = [https://app.example.com]
    preflight = {"Access-Control-Request-Method": "GET"}
    # When a browser preflights from the allowed and from another origin
    allowed = client.options("/health", headers={**preflight, "Origin": ALLOWED_ORIGIN})
    denied = client.options("/health", headers={**preflight, "Origin": "https://evil.example.net"})
    # Then only the allowed origin is echoed back
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "access-control-allow-origin" not in denied.headers
