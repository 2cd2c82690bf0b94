"""Write the API's sample events: one API Gateway REST proxy event per operation of docs/openapi.json.

    python -m tools.sample_events           # regenerate events/api/*.json (make events)
    python -m tools.sample_events --check   # exit 1 if a committed event is stale, missing or extra

Each event is what API Gateway passes the API function for that operation: the resource it matches
(`/health`, `/v1/{proxy+}`, `/uppy/{token}/{proxy+}`), its path and query parameters, a sample body and,
for the authorized `/v1` routes, the context the TOKEN authorizer returns (`user_id`, `principalId`,
`roles`). The ids are the placeholders below; `make invoke ... FILE=<file id>` aims them at a real file
(tools/ops/aim.py). A unit test (tests/unit/test_sample_events.py) fails while a committed file differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_FILE = ROOT / "docs" / "openapi.json"
API_EVENTS_DIR = ROOT / "events" / "api"

# The placeholders every sample carries; tools/ops/aim.py replaces them with a real file's values.
SAMPLE_USER = "user-alice"
SAMPLE_FILE = "file-0001"
SAMPLE_UPLOAD = "upload-0001"  # the upload session that stored the file
SAMPLE_ENDPOINT = "ep_0123456789abcdef01234567"
SAMPLE_DELIVERY = "1777889762600a1b2c3d4e5f60718"
SAMPLE_REVIEW = "rv_0123456789abcdef0123456789abcdef"
SAMPLE_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.example.signature"  # noqa: S105 - not a secret
# An upload token (POST /v1/upload-tokens) in the Uppy routes' path.
SAMPLE_UPLOAD_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.upload-example.signature"  # noqa: S105
SAMPLE_S3_UPLOAD = "2~f0e1d2c3b4a5968778695a4b3c2d1e0f"
API_ID = "a1b2c3d4e5"
HOST = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
STAGE = "prod"

PATH_VALUES = {
    "upload_id": SAMPLE_UPLOAD,
    "file_id": SAMPLE_FILE,
    "endpoint_id": SAMPLE_ENDPOINT,
    "delivery_id": SAMPLE_DELIVERY,
    "review_id": SAMPLE_REVIEW,
    "token": SAMPLE_UPLOAD_TOKEN,
    "playlist": "hls-master.m3u8",
    "part_number": "1",
}
# Required query parameters (and a few that show the route's use).
QUERY_VALUES = {
    "filename": "holiday.jpg",
    "type": "image/jpeg",
    "key": f"uploads/{SAMPLE_USER}/{SAMPLE_FILE}",
    "partNumbers": "1,2",
    "q": "holiday",
}
# Query parameters a route reads beyond its declared ones (Uppy's form upload: the file's metadata).
EXTRA_QUERY = {"upload_parameters": {"metadata[size]": "24117248"}}
BODIES: dict[str, Any] = {
    "initiate_upload": {"filename": "holiday.jpg", "size": 24117248, "content_type": "image/jpeg"},
    "sign_parts": {"parts": [{"part_number": 1}, {"part_number": 2}]},
    "complete_upload": None,
    "create_multipart_upload": {"filename": "holiday.jpg", "type": "image/jpeg", "metadata": {}},
    "complete_multipart_upload": {"parts": [{"PartNumber": 1, "ETag": '"9b2cf535f27731c974343645a3985328"'}]},
    "replace_tags": {"tags": ["holiday", "beach"]},
    "create_webhook": {"url": "https://hooks.example.com/fileflow", "events": ["file.processed"]},
    "update_webhook": {"description": "the ops team's receiver"},
    "rotate_secret": {"overlap_seconds": 3600},
    "decide": {"decision": "approve", "note": "looks right"},
}
# Routes that need the reviewer role: their authorizer context carries it (the token's `roles` claim).
REVIEWER_ROUTES = ("/v1/reviews",)

_HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate, br",
    "CloudFront-Forwarded-Proto": "https",
    "CloudFront-Is-Desktop-Viewer": "true",
    "CloudFront-Is-Mobile-Viewer": "false",
    "CloudFront-Is-SmartTV-Viewer": "false",
    "CloudFront-Is-Tablet-Viewer": "false",
    "CloudFront-Viewer-Country": "DE",
    "Host": HOST,
    "User-Agent": "curl/8.7.1",
    "Via": "2.0 f0e1d2c3b4a5968778695a4b3c2d1e0f.cloudfront.net (CloudFront)",
    "X-Amz-Cf-Id": "Tz5nq8m0vXKc3Q9QWb5Yf0m2w7aW1bXq7rZr0o4uN8nL3pC6kD2sEw==",
    "X-Amzn-Trace-Id": "Root=1-6638a1f2-3c2d1e0f9a8b7c6d5e4f3a2b",
    "X-Forwarded-For": "203.0.113.10, 130.176.0.1",
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
}


def case_name(operation_id: str, path: str, method: str) -> str:
    """The route function's name: FastAPI's operation id without its `_<path>_<method>` suffix."""
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id.removesuffix(suffix)


def _resource(path: str) -> tuple[str, dict[str, str] | None]:
    """The API Gateway resource the path matches, and its path parameters (infra/constructs/api.py)."""
    if path.startswith("/v1/"):
        return "/v1/{proxy+}", {"proxy": path.removeprefix("/v1/")}
    if match := re.fullmatch(r"/uppy/([^/]+)/(.+)", path):
        return "/uppy/{token}/{proxy+}", {"token": match[1], "proxy": match[2]}
    return path, None


def api_event(path_template: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    name = case_name(operation["operationId"], path_template, method)
    parameters = operation.get("parameters", [])
    path = path_template
    for parameter in parameters:
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", PATH_VALUES[parameter["name"]])
    query = {
        parameter["name"]: QUERY_VALUES[parameter["name"]]
        for parameter in parameters
        if parameter["in"] == "query" and (parameter.get("required") or parameter["name"] in ("q",))
    }
    query |= EXTRA_QUERY.get(name, {})
    resource, path_parameters = _resource(path)
    authorized = bool(operation.get("security"))
    headers = dict(_HEADERS)
    body = BODIES[name] if "requestBody" in operation else None
    if "requestBody" in operation:
        headers["Content-Type"] = "application/json"
    if authorized:
        headers["Authorization"] = f"Bearer {SAMPLE_TOKEN}"
    request_context: dict[str, Any] = {
        "resourceId": "x1y2z3",
        "resourcePath": resource,
        "httpMethod": method.upper(),
        "extendedRequestId": "XyZ1aFg2oAMEb0w=",
        "requestTime": "04/May/2026:10:15:30 +0000",
        "path": f"/{STAGE}{path}",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": STAGE,
        "domainPrefix": API_ID,
        "requestTimeEpoch": 1777889730123,
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": "203.0.113.10",
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": "curl/8.7.1",
            "user": None,
        },
        "domainName": HOST,
        "deploymentId": "d4e5f6",
        "apiId": API_ID,
    }
    if authorized:
        # What API Gateway passes from the TOKEN authorizer's answer (fileflow_authorizer/policy.py).
        authorizer: dict[str, Any] = {"user_id": SAMPLE_USER, "principalId": SAMPLE_USER}
        if path_template.startswith(REVIEWER_ROUTES):
            authorizer["roles"] = "reviewer"
        request_context["authorizer"] = {**authorizer, "integrationLatency": 12}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": request_context,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def api_events(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """case name -> event, for every operation of the document."""
    events: dict[str, dict[str, Any]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            events[case_name(operation["operationId"], path, method)] = api_event(path, method, operation)
    return events


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def stale_files(document: dict[str, Any]) -> list[str]:
    """The events/api/ files that differ from what the document gives, are missing, or are extra."""
    expected = {f"{name}.json": render(event) for name, event in api_events(document).items()}
    present = {path.name for path in API_EVENTS_DIR.glob("*.json")}
    differing = [
        name
        for name, text in expected.items()
        if name not in present or (API_EVENTS_DIR / name).read_text(encoding="utf-8") != text
    ]
    return sorted(differing + sorted(present - expected.keys()))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if events/api/ is stale")
    args = parser.parse_args()
    document = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    if args.check:
        stale = stale_files(document)
        if stale:
            print(f"events/api/ is stale ({', '.join(stale)}): run `make events`", file=sys.stderr)
            return 1
        return 0
    API_EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    events = api_events(document)
    for path in API_EVENTS_DIR.glob("*.json"):
        if path.stem not in events:
            path.unlink()
    for name, event in events.items():
        (API_EVENTS_DIR / f"{name}.json").write_text(render(event), encoding="utf-8")
    print(f"wrote {len(events)} events to {API_EVENTS_DIR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
