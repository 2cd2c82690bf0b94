"""Isolation matrix on the deployed stack: user B tries every route and every presigned URL on user A's
resources, and succeeds at nothing; A's data is intact afterwards.

A uploads a PNG through the API (initiate, PUT to the presigned URL, complete) and waits until it is
processed (derivatives exist), tags it, starts a multipart upload through /v1 and one through Uppy's
routes. B, with a valid token of its own, then calls each route on A's ids and keys, and tries the URLs
B can obtain or forge. The matrix of (attempt, expected refusal, what happened) is printed on failure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import requests

from tests import samples
from tests.e2e.polling import wait_for
from tools.stack import StackOutputs, endpoint_url
from tools.token import TokenFactory

TIMEOUT = 30
MIB = 1024 * 1024


class Client:
    """One user's calls to the deployed API."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base_url}{path}", timeout=TIMEOUT, **kwargs)

    def ok(self, method: str, path: str, expected: int = 200, **kwargs: Any) -> Any:
        response = self(method, path, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@dataclass(frozen=True)
class Owner:
    """What A holds, and B will try to reach."""

    file: dict[str, Any]  # GET /v1/files/{id} once processed
    upload_id: str  # the completed upload of the file
    multipart: dict[str, Any]  # an initiated multipart upload (/v1)
    uppy: dict[str, str]  # an initiated Uppy multipart upload: {key, uploadId}
    tag: str
    list_cursor: str
    audit_cursor: str
    webhook_id: str  # an endpoint of A's (nothing listens at its URL: its delivery keeps failing)
    delivery_id: str  # A's delivery of the file's event to it


@dataclass(frozen=True)
class Attempt:
    what: str
    expected: str
    refused: bool
    got: str


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    return TokenFactory.for_stack(stack)


@pytest.fixture(scope="module")
def users(stack: StackOutputs, tokens: TokenFactory) -> tuple[Client, Client]:
    run = uuid.uuid4().hex[:10]
    return (
        Client(stack.api_url, tokens.valid(f"e2e-iso-a-{run}")),
        Client(stack.api_url, tokens.valid(f"e2e-iso-b-{run}")),
    )


@pytest.fixture(scope="module")
def reviewer(stack: StackOutputs, tokens: TokenFactory) -> Client:
    """A user with the reviewer role: the review queue is theirs, the owners' files are not."""
    return Client(stack.api_url, tokens.reviewer(f"e2e-iso-r-{uuid.uuid4().hex[:10]}"))


def upload_file(client: Client, data: bytes, *, filename: str, content_type: str) -> dict[str, Any]:
    started: dict[str, Any] = client.ok(
        "POST",
        "/v1/uploads",
        201,
        json={"filename": filename, "size": len(data), "content_type": content_type},
    )
    single = started["single"]
    put = requests.put(single["url"], data=data, headers=single["headers"], timeout=TIMEOUT)
    assert put.status_code == 200, put.text
    client.ok("POST", f"/v1/uploads/{started['upload_id']}/complete")
    return started


@pytest.fixture(scope="module")
def owner(users: tuple[Client, Client]) -> Owner:
    alice, _ = users
    run = uuid.uuid4().hex[:8]
    # Given a webhook endpoint of A's (the e2e stack allows http://127.0.0.1 targets; nothing listens on 9)
    webhook = alice.ok(
        "POST", "/v1/webhooks", 201, json={"url": "http://127.0.0.1:9/iso", "events": ["file.processed"]}
    )
    # And A's PNG uploaded through the API and processed (its derivatives exist)
    started = upload_file(alice, samples.png(), filename=f"private-{run}.png", content_type="image/png")

    def processed() -> dict[str, Any] | None:
        response = alice("GET", f"/v1/files/{started['file_id']}")
        body: dict[str, Any] = response.json()
        return body if body.get("status") == "processed" and body.get("derivatives") else None

    wait_for(processed, timeout=90, what="A's file to be processed")
    tag = f"secret-{run}"
    alice.ok("PUT", f"/v1/files/{started['file_id']}/tags", json={"tags": [tag]})
    file = alice.ok("GET", f"/v1/files/{started['file_id']}")
    # And a multipart upload in progress (/v1), and one through Uppy's routes with A's upload token
    multipart = alice.ok(
        "POST",
        "/v1/uploads",
        201,
        json={"filename": "big.bin", "size": 17 * MIB, "content_type": "application/octet-stream"},
    )
    uppy_endpoint = alice.ok("POST", "/v1/upload-tokens", 201)["uppy_endpoint"]
    uppy = requests.post(
        f"{uppy_endpoint}/s3/multipart",
        json={"filename": "uppy.bin", "type": "application/octet-stream", "metadata": {}},
        timeout=TIMEOUT,
    )
    assert uppy.status_code == 200, uppy.text
    # And cursors of A's listings (a second file makes the listing span pages)
    initiated = alice.ok(
        "POST", "/v1/uploads", 201, json={"filename": "other.txt", "size": 3, "content_type": "text/plain"}
    )
    assert initiated["file_id"]
    list_cursor = alice.ok("GET", "/v1/files", params={"limit": 1})["next_cursor"]
    audit_cursor = alice.ok("GET", "/v1/audit", params={"limit": 1})["next_cursor"]
    assert list_cursor
    assert audit_cursor
    deliveries = f"/v1/webhooks/{webhook['endpoint_id']}/deliveries"
    delivery = wait_for(
        lambda: alice.ok("GET", deliveries)["deliveries"], timeout=90, what="A's webhook delivery"
    )[0]
    return Owner(
        file=file,
        upload_id=started["upload_id"],
        multipart=multipart,
        uppy=uppy.json(),
        tag=tag,
        list_cursor=list_cursor,
        audit_cursor=audit_cursor,
        webhook_id=webhook["endpoint_id"],
        delivery_id=delivery["delivery_id"],
    )


def with_key(url: str, key: str) -> str:
    """The same presigned URL (same signature), aimed at another object key."""
    parts = urlsplit(url)
    path = parts.path
    start = min(path.index(prefix) for prefix in ("/uploads/", "/derived/") if prefix in path)
    return urlunsplit(parts._replace(path=f"{path[:start]}/{quote(key)}"))


def unsigned(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


def test_user_b_can_reach_nothing_of_user_a(
    users: tuple[Client, Client], owner: Owner, reviewer: Client
) -> None:
    alice, bob = users
    file_id = owner.file["file_id"]
    multipart_id = owner.multipart["upload_id"]
    uppy_id, uppy_key = owner.uppy["uploadId"], owner.uppy["key"]
    attempts: list[Attempt] = []

    def expect(what: str, expected_status: int, response: requests.Response) -> None:
        attempts.append(
            Attempt(
                what,
                str(expected_status),
                response.status_code == expected_status,
                f"{response.status_code} {response.text[:80]}",
            )
        )

    def expect_absent(what: str, response: requests.Response, *secrets: str) -> None:
        leaked = [secret for secret in secrets if secret in response.text]
        attempts.append(
            Attempt(
                what,
                "200 without A's data",
                response.status_code == 200 and not leaked,
                f"{response.status_code} leaked={leaked}",
            )
        )

    def expect_denied(what: str, response: requests.Response) -> None:
        attempts.append(
            Attempt(what, "S3 403/400", response.status_code in (400, 403), f"{response.status_code}")
        )

    # When B calls every /v1 route on A's uploads
    single = f"/v1/uploads/{owner.upload_id}"
    multi = f"/v1/uploads/{multipart_id}"
    expect("GET upload (completed)", 404, bob("GET", single))
    expect("POST complete (completed)", 404, bob("POST", f"{single}/complete"))
    expect("DELETE upload (completed)", 404, bob("DELETE", single))
    expect("GET upload (multipart)", 404, bob("GET", multi))
    expect("GET parts", 404, bob("GET", f"{multi}/parts"))
    expect("POST parts (sign)", 404, bob("POST", f"{multi}/parts", json={"parts": [{"part_number": 1}]}))
    expect("POST complete (multipart)", 404, bob("POST", f"{multi}/complete"))
    expect("DELETE upload (abort multipart)", 404, bob("DELETE", multi))
    # And every files route on A's file
    expect("GET file", 404, bob("GET", f"/v1/files/{file_id}"))
    expect("PUT tags", 404, bob("PUT", f"/v1/files/{file_id}/tags", json={"tags": ["mine"]}))
    expect("DELETE file", 404, bob("DELETE", f"/v1/files/{file_id}"))
    # A conditional GET must not tell B that the file exists (a 304 would)
    expect(
        "GET file If-None-Match: *", 404, bob("GET", f"/v1/files/{file_id}", headers={"If-None-Match": "*"})
    )
    expect("GET file events", 404, bob("GET", f"/v1/files/{file_id}/events", params={"wait": 0}))
    expect("GET file events (long-poll)", 404, bob("GET", f"/v1/files/{file_id}/events", params={"wait": 3}))
    expect("GET HLS master playlist", 404, bob("GET", f"/v1/files/{file_id}/hls/hls-master.m3u8"))
    name = owner.file["filename"]
    expect_absent("GET files (list)", bob("GET", "/v1/files"), file_id)
    expect_absent(
        "GET files?status=processed", bob("GET", "/v1/files", params={"status": "processed"}), file_id
    )
    expect_absent("GET files?sort=name", bob("GET", "/v1/files", params={"sort": "name"}), file_id)
    expect_absent("search by A's tag", bob("GET", "/v1/files/search", params={"tag": owner.tag}), file_id)
    expect_absent("search by A's name", bob("GET", "/v1/files/search", params={"q": name}), file_id)
    expect_absent(
        "search contains A's name",
        bob("GET", "/v1/files/search", params={"q": name[3:], "match": "contains"}),
        file_id,
    )
    expect(
        "GET files with A's cursor",
        400,
        bob("GET", "/v1/files", params={"limit": 1, "cursor": owner.list_cursor}),
    )
    expect_absent("GET audit", bob("GET", "/v1/audit"), file_id, owner.upload_id, multipart_id, uppy_id)
    expect("GET audit with A's cursor", 400, bob("GET", "/v1/audit", params={"cursor": owner.audit_cursor}))
    # And the usage route answers with B's own figures only (it takes no id: the token names the user)
    expect_absent("GET usage", bob("GET", "/v1/usage"), file_id, owner.upload_id)
    # And every webhooks route on A's endpoint and delivery
    hook = f"/v1/webhooks/{owner.webhook_id}"
    delivery = f"{hook}/deliveries/{owner.delivery_id}"
    expect_absent("GET webhooks (list)", bob("GET", "/v1/webhooks"), owner.webhook_id)
    expect("GET webhook", 404, bob("GET", hook))
    expect("PATCH webhook", 404, bob("PATCH", hook, json={"url": "http://127.0.0.1:9/bob"}))
    expect("rotate A's secret", 404, bob("POST", f"{hook}/rotate-secret", json={}))
    expect("GET deliveries", 404, bob("GET", f"{hook}/deliveries"))
    expect("GET delivery", 404, bob("GET", delivery))
    expect("redeliver", 404, bob("POST", f"{delivery}/redeliver"))
    expect("DELETE webhook", 404, bob("DELETE", hook))

    # And every review route: B has no reviewer role (403 on each, whatever the id)
    review = "/v1/reviews/rv_" + "0" * 32
    expect("GET reviews (queue)", 403, bob("GET", "/v1/reviews"))
    expect("GET reviews?status=decided", 403, bob("GET", "/v1/reviews", params={"status": "decided"}))
    expect("GET review", 403, bob("GET", review))
    expect("POST review decision", 403, bob("POST", f"{review}/decision", json={"decision": "approve"}))
    expect("GET reviews feedback", 403, bob("GET", "/v1/reviews/feedback"))
    # And a reviewer reaches none of A's files through the file routes (only what a review holds)
    expect("reviewer: GET file", 404, reviewer("GET", f"/v1/files/{file_id}"))
    expect(
        "reviewer: GET file events", 404, reviewer("GET", f"/v1/files/{file_id}/events", params={"wait": 0})
    )
    expect("reviewer: PUT tags", 404, reviewer("PUT", f"/v1/files/{file_id}/tags", json={"tags": ["r"]}))
    expect("reviewer: DELETE file", 404, reviewer("DELETE", f"/v1/files/{file_id}"))
    expect("reviewer: GET HLS", 404, reviewer("GET", f"/v1/files/{file_id}/hls/hls-master.m3u8"))
    expect_absent("reviewer: GET files (list)", reviewer("GET", "/v1/files"), file_id)
    expect_absent(
        "reviewer: search A's tag", reviewer("GET", "/v1/files/search", params={"tag": owner.tag}), file_id
    )
    expect("reviewer: GET upload", 404, reviewer("GET", single))
    expect("reviewer: GET webhook", 404, reviewer("GET", hook))
    expect(
        "reviewer: GET files with A's cursor",
        400,
        reviewer("GET", "/v1/files", params={"cursor": owner.list_cursor}),
    )
    expect("reviewer: no such review", 404, reviewer("GET", review))

    # And Uppy's routes with B's own upload token, on A's upload id and key
    uppy = bob.ok("POST", "/v1/upload-tokens", 201)["uppy_endpoint"] + "/s3/multipart"
    key = {"key": uppy_key}
    expect("uppy list parts", 404, requests.get(f"{uppy}/{uppy_id}", params=key, timeout=TIMEOUT))
    expect("uppy sign part", 404, requests.get(f"{uppy}/{uppy_id}/1", params=key, timeout=TIMEOUT))
    expect(
        "uppy sign batch",
        404,
        requests.get(f"{uppy}/{uppy_id}/batch", params={**key, "partNumbers": "1,2"}, timeout=TIMEOUT),
    )
    expect(
        "uppy complete",
        404,
        requests.post(
            f"{uppy}/{uppy_id}/complete",
            params=key,
            json={"parts": [{"PartNumber": 1, "ETag": '"x"'}]},
            timeout=TIMEOUT,
        ),
    )
    expect("uppy abort", 404, requests.delete(f"{uppy}/{uppy_id}", params=key, timeout=TIMEOUT))
    # And B's own Uppy upload, signed with A's key in the query
    own = requests.post(uppy, json={"filename": "b.bin", "type": "", "metadata": {}}, timeout=TIMEOUT).json()
    expect(
        "uppy sign B's upload with A's key",
        404,
        requests.get(f"{uppy}/{own['uploadId']}/1", params=key, timeout=TIMEOUT),
    )

    # And the presigned URLs B can obtain or forge: B's own PUT URL re-aimed at A's keys, unsigned GETs
    own_put = bob.ok(
        "POST", "/v1/uploads", 201, json={"filename": "b.txt", "size": 5, "content_type": "text/plain"}
    )
    url, headers = own_put["single"]["url"], own_put["single"]["headers"]
    original_key = owner.file["original"]["key"]
    derivative = owner.file["derivatives"][0]
    expect_denied(
        "B's PUT URL re-aimed at A's original",
        requests.put(with_key(url, original_key), data=b"owned", headers=headers, timeout=TIMEOUT),
    )
    expect_denied(
        "B's PUT URL re-aimed at A's derivative",
        requests.put(with_key(url, derivative["key"]), data=b"owned", headers=headers, timeout=TIMEOUT),
    )
    expect_denied(
        "B's PUT URL used as a GET of A's original",
        requests.get(with_key(url, original_key), timeout=TIMEOUT),
    )
    # The same URLs stripped of their signature. Only on AWS: LocalStack community serves unsigned requests
    # whatever the bucket's policy and Block Public Access say (it checks signatures, not anonymity).
    if endpoint_url() is None:
        expect_denied(
            "unsigned GET of A's original",
            requests.get(unsigned(owner.file["original"]["download"]["url"]), timeout=TIMEOUT),
        )
        expect_denied(
            "unsigned GET of A's derivative",
            requests.get(unsigned(derivative["download"]["url"]), timeout=TIMEOUT),
        )
    # A's signed URL with one byte of its signature changed
    tampered = owner.file["derivatives"][0]["download"]["url"]
    position = tampered.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    flipped = "0" if tampered[position] != "0" else "1"
    expect_denied(
        "A's derivative URL with its signature altered",
        requests.get(tampered[:position] + flipped + tampered[position + 1 :], timeout=TIMEOUT),
    )
    multipart_signed = bob("POST", f"{multi}/parts", json={"parts": [{"part_number": 1}]})
    expect("sign a part of A's multipart upload", 404, multipart_signed)

    # Then B succeeded at nothing
    failures = [attempt for attempt in attempts if not attempt.refused]
    if failures:
        width = max(len(attempt.what) for attempt in attempts)
        table = "\n".join(
            f"{'ok  ' if attempt.refused else 'LEAK'} {attempt.what:<{width}}  "
            f"expected {attempt.expected:<22} got {attempt.got}"
            for attempt in attempts
        )
        pytest.fail(f"{len(failures)} of {len(attempts)} attempts by B succeeded on A's resources:\n{table}")
    assert len(attempts) >= 59

    # And A's data is intact: same file, tags, derivatives downloadable, multipart upload still open
    after = alice.ok("GET", f"/v1/files/{file_id}")
    assert (after["status"], after["tags"], after["etag"]) == ("processed", [owner.tag], owner.file["etag"])
    assert len(after["derivatives"]) == len(owner.file["derivatives"])
    for fresh in after["derivatives"]:
        assert requests.get(fresh["download"]["url"], timeout=TIMEOUT).status_code == 200
    assert requests.get(after["original"]["download"]["url"], timeout=TIMEOUT).content == samples.png()
    assert alice.ok("GET", multi)["status"] == "initiated"
    assert alice.ok("GET", f"/v1/uploads/{uppy_id}")["status"] == "initiated"
    assert alice.ok("GET", hook)["url"] == "http://127.0.0.1:9/iso"
    actions = {
        event["resource_id"]: event["action"]
        for event in alice.ok("GET", "/v1/audit", params={"limit": 100})["events"]
    }
    assert actions[file_id] == "file.tags_changed"
    assert "file.deleted" not in actions.values()


def test_a_download_url_is_for_its_own_key_only(users: tuple[Client, Client], owner: Owner) -> None:
    # Given one of A's derivative URLs (A obtained it; B cannot)
    derivative = owner.file["derivatives"][0]["download"]["url"]
    original_key = owner.file["original"]["key"]
    # When its signature is replayed for another key / Then S3 refuses it
    assert requests.get(with_key(derivative, original_key), timeout=TIMEOUT).status_code in (400, 403)
