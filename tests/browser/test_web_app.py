"""The web page's views in a real browser against the deployed stack: the file list (thumbnails, live
badges, search, delete), a file's detail (stages arriving through the long-poll, HLS playback), resuming
an upload after a reload, the review queue, webhooks and usage; axe-core and screenshots on each page.

What the page did is checked through the API, S3 and the network, not only through what it shows.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import FilePayload, Page, Request, Route, expect

from fileflow_common.tokens import API_AUDIENCE, TokenMinter
from infra import outputs as names
from tests import samples
from tests.browser.support import (
    TIMEOUT,
    Api,
    PageLog,
    check_accessibility_and_shoot,
    page_url,
    text_file,
)
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tests.support.claude_emulator import ClaudeEmulator
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
UPLOAD_TIMEOUT_MS = 120_000
PROCESSING_TIMEOUT_MS = 120_000
FILE_INPUT = "input.uppy-Dashboard-input:not([webkitdirectory])"
UPLOADS_KEY = "fileflow.uploads.{user}"


def sign_in(browser_page: Page, stack: StackOutputs, token: str, route: str = "") -> None:
    browser_page.goto(f"{page_url(stack)}#token={token}")
    expect(browser_page.locator("#account")).to_be_visible()
    if route:
        browser_page.evaluate("route => { window.location.hash = route }", route)


def part_number(url: str) -> int | None:
    numbers = parse_qs(urlparse(url).query).get("partNumber")
    return int(numbers[0]) if numbers else None


def test_three_files_upload_show_thumbnails_and_live_badges_and_can_be_searched(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    # Given the page signed in
    sign_in(browser_page, stack, token)
    # When two images and a text file are uploaded through the Dashboard
    browser_page.set_input_files(
        FILE_INPUT,
        files=[
            FilePayload(name="sunrise.png", mimeType="image/png", buffer=samples.png(320, 200)),
            FilePayload(name="harbour.jpg", mimeType="image/jpeg", buffer=samples.jpeg(400, 300)),
            FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"Three files at once.\n"),
        ],
    )
    browser_page.get_by_role("button", name=re.compile(r"^Upload 3 files")).click()
    expect(browser_page.locator(".uppy-StatusBar.is-complete")).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    # Then the list shows the three, and each badge turns to Processed without a reload
    rows = browser_page.locator("#files-list .file-row")
    expect(rows).to_have_count(3)
    for name in ("sunrise.png", "harbour.jpg", "notes.txt"):
        expect(rows.filter(has_text=name).locator(".badge")).to_have_text(
            "Processed", timeout=PROCESSING_TIMEOUT_MS
        )
    # And each image shows its thumbnail: a presigned GET of its thumb-128 derivative, loaded
    for name in ("sunrise.png", "harbour.jpg"):
        thumb = rows.filter(has_text=name).locator("img.thumb")
        expect(thumb).to_be_visible(timeout=TIMEOUT * 1000)
        expect(thumb).to_have_attribute("src", re.compile(r"/derived/.+/thumb-128\.[a-z]+\?"))
        assert thumb.evaluate("image => image.naturalWidth") > 0
    # (a text file has none: its placeholder stays)
    expect(rows.filter(has_text="notes.txt").locator("img.thumb")).to_be_hidden()
    check_accessibility_and_shoot(browser_page, "files")

    # When searching by a name prefix, then for a part of a name
    browser_page.get_by_label("Name", exact=True).fill("sun")
    browser_page.get_by_role("button", name="Search").click()
    # Then only the matching file is listed
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("sunrise.png")
    browser_page.get_by_label("Name", exact=True).fill("arbou")
    browser_page.get_by_label("Match").select_option("contains")
    browser_page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("harbour.jpg")
    browser_page.get_by_role("button", name="Clear").click()
    expect(rows).to_have_count(3)
    assert log.errors == []


def test_a_tag_filters_the_list_and_a_file_is_deleted_after_confirmation(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    api = Api(stack.api_url, token)
    # Given two files of the user's, one tagged "invoices"
    keep = api.upload(b"keep me\n", filename="keep.txt", content_type="text/plain")
    doomed = api.upload(b"delete me\n", filename="doomed.txt", content_type="text/plain")
    wait_for(partial(api.processed, doomed["file_id"]), timeout=TIMEOUT * 3, what="doomed.txt processed")
    tagged = api.call("PUT", f"/v1/files/{doomed['file_id']}/tags", json={"tags": ["invoices"]})
    assert tagged.status_code == 200, tagged.text
    sign_in(browser_page, stack, token)
    rows = browser_page.locator("#files-list .file-row")
    expect(rows).to_have_count(2)
    # When filtering by the tag
    browser_page.get_by_label("Tag", exact=True).fill("invoices")
    browser_page.get_by_role("button", name="Search").click()
    # Then only the tagged file is listed
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("doomed.txt")

    # When its Delete is chosen, then cancelled
    browser_page.get_by_role("button", name="Delete doomed.txt").click()
    dialog = browser_page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("doomed.txt")
    dialog.get_by_role("button", name="Cancel").click()
    # Then nothing is deleted, and focus is back on the button
    expect(dialog).to_be_hidden()
    expect(browser_page.get_by_role("button", name="Delete doomed.txt")).to_be_focused()
    assert api.call("GET", f"/v1/files/{doomed['file_id']}").status_code == 200
    # When it is chosen again and confirmed
    browser_page.get_by_role("button", name="Delete doomed.txt").click()
    dialog.get_by_role("button", name="Delete").click()
    # Then the row goes, the page says so, and the API no longer knows the file; the other one stays
    expect(rows).to_have_count(0)
    expect(browser_page.locator("#status")).to_have_text("doomed.txt was deleted.")
    assert api.call("GET", f"/v1/files/{doomed['file_id']}").status_code == 404
    assert api.call("GET", f"/v1/files/{keep['file_id']}").status_code == 200
    assert log.errors == []


def test_the_detail_page_shows_the_stages_arriving_live_then_the_analysis_and_derivatives(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    api = Api(stack.api_url, token)
    # Given an upload initiated but not yet sent, and its file's page open
    image = samples.png(640, 400)
    started = api.upload(image, filename="live.png", content_type="image/png", complete=False)
    file_id = started["file_id"]
    live_events: list[dict[str, Any]] = []
    browser_page.on(
        "response",
        lambda response: (
            live_events.extend(response.json()["events"])
            if f"/v1/files/{file_id}/events" in response.url and response.ok
            else None
        ),
    )
    sign_in(browser_page, stack, token, f"#/files/{file_id}")
    expect(browser_page.locator("#file-title")).to_have_text("live.png")
    expect(browser_page.locator("#file-status")).to_have_text("Uploading")
    timeline = browser_page.locator("#timeline .stage")
    expect(timeline).to_have_count(0)
    # When the bytes arrive and the upload is completed (the page is not touched)
    api.send(started, image)
    # Then the stages appear one after another as the long-poll brings them, ending with notify
    for stage in ("detect", "image", "analysis", "finalize", "notify"):
        expect(timeline.and_(browser_page.locator(f'[data-stage="{stage}"]'))).to_have_attribute(
            "data-state", "succeeded", timeout=PROCESSING_TIMEOUT_MS
        )
    assert {"detect", "image", "finalize"} <= {event["stage"] for event in live_events}, live_events
    expect(browser_page.locator("#file-status")).to_have_text("Processed")
    expect(browser_page.locator("#timeline-live")).to_have_text("Processing finished: Processed.")
    # And the derivatives are listed with downloads, the thumbnail shown, the analysis rendered
    derivatives = browser_page.locator("#derivatives .derivative")
    download = derivatives.filter(has_text=re.compile(r"thumb-128\.")).first.get_by_role("link")
    expect(download).to_have_attribute("href", re.compile(r"^https?://.+/derived/.+thumb-128"))
    expect(browser_page.locator("#file-thumb")).to_be_visible()
    expect(browser_page.locator("#analysis")).to_contain_text("Summary")
    expect(browser_page.locator("#file-download")).to_be_visible()
    check_accessibility_and_shoot(browser_page, "file-detail")
    assert log.errors == []


def test_a_video_plays_through_hls_js_from_the_playlist_route(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    api = Api(stack.api_url, token)
    # Given a 6-second H.264/AAC clip uploaded and processed into an HLS ladder
    clip = api.upload(samples.mp4(6.0, 640, 360), filename="clip.mp4", content_type="video/mp4")
    detail = wait_for(
        partial(api.processed, clip["file_id"]), timeout=PROCESSING_TIMEOUT_MS / 1000, what="clip"
    )
    assert detail["status"] == "processed", detail.get("processing_error")
    requests_seen: list[Request] = []
    browser_page.on("request", lambda request: requests_seen.append(request))
    # When its page is opened and the video played (muted, as autoplay policies want)
    sign_in(browser_page, stack, token, f"#/files/{clip['file_id']}")
    video = browser_page.locator("#player")
    expect(video).to_be_visible()
    expect(browser_page.locator("#player-note")).to_have_text("Ready to play.")
    video.evaluate("video => { video.muted = true; return video.play() }")
    # Then its playback position passes 2 s
    browser_page.wait_for_function(
        "() => document.getElementById('player').currentTime >= 2", timeout=PROCESSING_TIMEOUT_MS
    )
    # And the playlists came from the API with the bearer token, the segments from S3 without it
    playlists = [r for r in requests_seen if "/hls/" in r.url]
    segments = [r for r in requests_seen if re.search(r"/derived/.+\.ts\?", r.url)]
    assert playlists, [r.url for r in requests_seen]
    assert segments, [r.url for r in requests_seen]
    assert all(r.headers.get("authorization") == f"Bearer {token}" for r in playlists)
    assert all("authorization" not in r.headers for r in segments)
    check_accessibility_and_shoot(browser_page, "video")
    assert log.errors == []


def test_an_upload_cut_by_a_reload_resumes_sending_only_the_missing_parts(
    stack: StackOutputs,
    aws: AwsClients,
    tokens: TokenFactory,
    user: str,
    page: tuple[Page, PageLog],
    tmp_path: Path,
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    api = Api(stack.api_url, token)
    # Given a 40 MiB file on disk (five 8 MiB parts), and S3 answering only its first two part PUTs
    path = tmp_path / "big-notes.txt"
    path.write_bytes(text_file(40 * MIB))
    held: list[Route] = []
    cut = True

    def cut_after_two_parts(route: Route) -> None:
        number = part_number(route.request.url)
        if cut and route.request.method == "PUT" and number is not None and number > 2:
            held.append(route)  # never answered: part 3 is on its way when the page reloads
        else:
            route.continue_()

    browser_page.route(re.compile(r".*[?&]partNumber=\d+.*"), cut_after_two_parts)
    sign_in(browser_page, stack, token)
    browser_page.set_input_files(FILE_INPUT, files=[str(path)])
    # (the plugin sends a file's parts one after another: part 3 leaves once S3 holds 1 and 2)
    with browser_page.expect_request(lambda r: r.method == "PUT" and part_number(r.url) == 3):
        browser_page.get_by_role("button", name=re.compile(r"^Upload 1 file")).click()
    saved = browser_page.evaluate(
        "key => JSON.parse(localStorage.getItem(key))[0]", UPLOADS_KEY.format(user=user)
    )
    upload_id = saved["upload_id"]
    assert (saved["name"], saved["size"]) == ("big-notes.txt", 40 * MIB)
    before = [part["part_number"] for part in api.get(f"/v1/uploads/{upload_id}/parts")["parts"]]
    assert before == [1, 2]
    part_puts: list[int] = []
    list_parts: list[str] = []

    def watch(request: Request) -> None:
        number = part_number(request.url)
        if request.method == "PUT" and number is not None:
            part_puts.append(number)
        if request.method == "GET" and f"/s3/multipart/{upload_id}?" in request.url:
            list_parts.append(request.url)

    browser_page.on("request", watch)
    # When the page is reloaded with part 3 in flight
    browser_page.reload()
    cut = False
    for route in held:
        with contextlib.suppress(PlaywrightError):  # the reload has cancelled the request already
            route.abort()
    # Then the page offers to resume it, from what the server holds
    resume = browser_page.locator("#resume-list li")
    expect(resume).to_have_count(1)
    expect(resume).to_contain_text("big-notes.txt")
    expect(resume).to_contain_text("2 of 5 parts")
    check_accessibility_and_shoot(browser_page, "resume")
    # When the user chooses another file first, then the same file again
    other = tmp_path / "other.txt"
    other.write_bytes(b"not the same file\n")
    browser_page.get_by_label("Choose big-notes.txt again to resume").set_input_files(str(other))
    expect(browser_page.get_by_role("alert")).to_contain_text("is not the file this upload started with")
    browser_page.get_by_label("Choose big-notes.txt again to resume").set_input_files(str(path))
    # Then the upload finishes: the plugin asked the server for its parts and sent only 3, 4 and 5
    expect(browser_page.locator(".uppy-StatusBar.is-complete")).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    assert list_parts, "the resumed upload never listed the parts S3 holds"
    assert sorted(set(part_puts)) == [3, 4, 5], part_puts
    upload = wait_for(partial(api.completed_upload, upload_id), timeout=TIMEOUT, what="the upload completed")
    assert upload["size"] == 40 * MIB
    # And S3 holds the file byte for byte, in five parts; the page forgot the finished upload
    stored = aws.s3.get_object(Bucket=stack[names.BUCKET_NAME], Key=upload["key"])
    assert stored["ETag"].endswith('-5"')
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert browser_page.evaluate("key => localStorage.getItem(key)", UPLOADS_KEY.format(user=user)) is None
    expect(browser_page.locator("#resume")).to_be_hidden()
    assert [error for error in log.errors if "partNumber" not in error] == []


def test_the_review_queue_degrades_plainly_without_the_review_api_or_the_reviewer_role(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    answer = Api(stack.api_url, token).call("GET", "/v1/reviews?status=pending")
    # Given a user without the reviewer role, on the review page
    sign_in(browser_page, stack, token, "#/reviews")
    # Then the page says plainly why there is no queue: no review API here (404), or not a reviewer (403)
    expected = {
        404: "The review queue is not available on this deployment",
        403: "Your account is not a reviewer",
    }
    assert answer.status_code in expected, answer.text
    expect(browser_page.locator("#reviews-summary")).to_contain_text(expected[answer.status_code])
    check_accessibility_and_shoot(browser_page, "reviews-unavailable")
    assert log.errors == [] or all("404" in e or "403" in e for e in log.errors)


def test_a_reviewer_approves_a_pending_review_with_the_keyboard(
    stack: StackOutputs,
    tokens: TokenFactory,
    user: str,
    page: tuple[Page, PageLog],
    claude_emulator: ClaudeEmulator,
) -> None:
    browser_page, log = page
    minter = TokenMinter(issuer=tokens.issuer, signing_key=lambda: tokens.key)
    reviewer = minter.mint(
        f"{user}-reviewer",
        audience=API_AUDIENCE,
        ttl=timedelta(hours=1),
        extra_claims={"roles": ["reviewer"]},
    ).token
    # Given a pending review: the owner's image, whose AI result (Claude through the suite's emulator,
    # for this owner only) is below the confidence threshold
    claude_emulator.set_tool_input(user, UNSURE_ANSWER)
    owner = Api(stack.api_url, tokens.valid(user))
    uploaded = owner.upload(
        samples.png(640, 400), filename="unsure.png", content_type="image/png", analysis="deep"
    )

    def pending() -> str | None:
        review = owner.get(f"/v1/files/{uploaded['file_id']}").get("review") or {}
        return review.get("review_id") if review.get("status") == "pending" else None

    review_id = wait_for(pending, timeout=PROCESSING_TIMEOUT_MS / 1000, what="a pending review")
    # When the reviewer opens the queue and presses "a" on it
    sign_in(browser_page, stack, reviewer, "#/reviews")
    item = browser_page.locator(f'#reviews-list [data-review-id="{review_id}"]')
    expect(item).to_be_visible()
    item.click()
    expect(browser_page.locator("#review-detail")).to_be_visible()
    check_accessibility_and_shoot(browser_page, "reviews-live")
    browser_page.keyboard.press("a")
    # Then the decision is recorded, and the owner's file leaves review
    expect(browser_page.locator("#status")).to_contain_text("Approved")
    decided = Api(stack.api_url, reviewer).get(f"/v1/reviews/{review_id}")
    assert decided["decision"] == "approve"
    wait_for(partial(owner.processed, uploaded["file_id"]), timeout=TIMEOUT * 3, what="the file finalized")
    assert log.errors == []


# What the emulator answers the AI stage's forced tool for the owner: a result Claude is unsure of.
UNSURE_ANSWER = {
    "description": "a gradient, perhaps a test card",
    "tags": ["gradient"],
    "text_seen": "",
    "category": "illustration",
    "moderation": {"adult": False, "violence": False, "hate": False, "self_harm": False},
    "confidence": 0.35,
}


def review_item(review_id: str, category: str, confidence: float, thumbnail: str) -> dict[str, Any]:
    """A review as GET /v1/reviews/{id} answers it (the contract of issue #11)."""
    return {
        "review_id": review_id,
        "status": "pending",
        "kind": "document",
        "category": category,
        "confidence": confidence,
        "created_at": "2026-12-02T05:00:00.000Z",
        "escalated_at": None,
        "decided_at": None,
        "ai": {
            "result": {"summary": f"A {category}.", "category": category, "tags": ["paper"]},
            "confidence": confidence,
        },
        "features": {"language": "en", "words": 120},
        "excerpt": "Total due: 42.00 EUR",
        "thumbnail": {"url": thumbnail, "expires_at": "2026-12-02T06:00:00.000Z"},
        "decision": None,
        "reviewer": None,
        "changes": None,
        "note": None,
    }


def test_the_review_page_decides_with_its_keyboard_shortcuts_as_the_review_contract_says(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    # Given the review routes answering as the contract says (served by the test: the page alone is
    # under test here, whether or not this stack has the review API yet)
    thumbnail = "data:image/png;base64," + base64.b64encode(samples.png(64, 64)).decode()
    reviews = {
        "r1": review_item("r1", "invoice", 0.42, thumbnail),
        "r2": review_item("r2", "letter", 0.61, thumbnail),
    }
    decisions: list[tuple[str, Any]] = []

    def review_routes(route: Route) -> None:
        path = urlparse(route.request.url).path
        found = re.search(r"/v1/reviews/(r\d)(/decision)?$", path)
        if found is None:
            summaries = [
                {
                    k: r[k]
                    for k in (
                        "review_id",
                        "status",
                        "kind",
                        "category",
                        "confidence",
                        "created_at",
                        "escalated_at",
                        "decided_at",
                    )
                }
                for r in reviews.values()
            ]
            route.fulfill(json={"reviews": summaries, "next_cursor": None})
        elif found.group(2):
            decisions.append((found.group(1), route.request.post_data_json))
            route.fulfill(json={**reviews[found.group(1)], "status": "decided"})
        else:
            route.fulfill(json=reviews[found.group(1)])

    browser_page.route(re.compile(r".*/v1/reviews(/.*)?(\?.*)?$"), review_routes)
    # When a reviewer opens the queue
    sign_in(browser_page, stack, tokens.valid(user), "#/reviews")
    items = browser_page.locator("#reviews-list .review-item")
    expect(items).to_have_count(2)
    # Then the first review is shown: its thumbnail, excerpt, AI result and local features
    expect(items.nth(0)).to_have_attribute("aria-pressed", "true")
    detail = browser_page.locator("#review-detail")
    expect(detail).to_contain_text("Total due: 42.00 EUR")
    expect(detail).to_contain_text("A invoice.")
    expect(browser_page.locator("#review-thumb")).to_be_visible()
    check_accessibility_and_shoot(browser_page, "reviews")
    # When j and k move through the queue
    browser_page.keyboard.press("j")
    expect(items.nth(1)).to_have_attribute("aria-pressed", "true")
    expect(detail).to_contain_text("A letter.")
    browser_page.keyboard.press("k")
    expect(items.nth(0)).to_have_attribute("aria-pressed", "true")
    expect(detail).to_contain_text("A invoice.")
    # And c opens the AI result's fields, one is edited, and c (outside the field) sends the correction
    browser_page.keyboard.press("c")
    expect(browser_page.get_by_label("summary", exact=True)).to_be_focused()
    browser_page.get_by_label("category", exact=True).fill("receipt")
    browser_page.evaluate("document.activeElement.blur()")
    browser_page.keyboard.press("c")
    # Then only the changed field goes to the decision route, and the next review comes up
    expect(browser_page.locator("#status")).to_have_text("Corrected the review of invoice.")
    assert decisions == [("r1", {"decision": "correct", "changes": {"category": "receipt"}})]
    expect(items).to_have_count(1)
    expect(detail).to_contain_text("A letter.")
    # When a approves it
    browser_page.keyboard.press("a")
    expect(browser_page.locator("#status")).to_have_text("Approved the review of letter.")
    assert decisions[1] == ("r2", {"decision": "approve"})
    expect(browser_page.locator("#reviews-summary")).to_have_text("No review is waiting.")
    assert log.errors == []


def test_webhook_endpoints_are_added_listed_with_deliveries_and_deleted(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    # Given the webhooks page (the test stack accepts http://127.0.0.1 targets; nothing listens on 9)
    sign_in(browser_page, stack, token, "#/webhooks")
    expect(browser_page.locator("#webhooks-summary")).to_have_text("No endpoint yet.")
    # When an endpoint is added for two events
    browser_page.get_by_label("HTTPS URL").fill("http://127.0.0.1:9/fileflow")
    browser_page.get_by_label("Description (optional)").fill("orders")
    browser_page.get_by_role("button", name="Add endpoint").click()
    # Then its secret is shown once, and it is listed with its events
    expect(browser_page.locator("#webhook-secret")).to_contain_text("whsec_")
    endpoint = browser_page.locator("#webhooks-list .webhook")
    expect(endpoint).to_have_count(1)
    expect(endpoint).to_contain_text("file.processed, file.failed · orders")
    listed = Api(stack.api_url, token).get("/v1/webhooks")["webhooks"]
    assert [(w["url"], w["events"]) for w in listed] == [
        ("http://127.0.0.1:9/fileflow", ["file.processed", "file.failed"])
    ]
    # And its recent deliveries open (none yet)
    endpoint.get_by_role("button", name="Recent deliveries").click()
    expect(endpoint.locator(".deliveries")).to_have_text("Nothing delivered yet.")
    check_accessibility_and_shoot(browser_page, "webhooks")
    # When it is deleted, after confirmation
    endpoint.get_by_role("button", name=re.compile("^Delete the endpoint")).click()
    browser_page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    # Then it is gone from the page and the API
    expect(endpoint).to_have_count(0)
    assert Api(stack.api_url, token).get("/v1/webhooks")["webhooks"] == []
    assert log.errors == []


def test_the_usage_page_shows_the_figures_or_says_they_are_not_available(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    answer = Api(stack.api_url, token).call("GET", "/v1/usage")
    # When the usage page opens
    sign_in(browser_page, stack, token, "#/usage")
    # Then it shows the API's figures, or says plainly this deployment has none (404)
    if answer.status_code == 404:
        expect(browser_page.locator("#usage-summary")).to_have_text(
            "Usage figures are not available on this deployment yet."
        )
    else:
        assert answer.status_code == 200, answer.text
        expect(browser_page.locator("#usage .facts").first).to_be_visible()
    check_accessibility_and_shoot(browser_page, "usage")
    assert [error for error in log.errors if "404" not in error] == []


def test_the_sign_in_page_and_the_keyboard_path_to_every_view(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, _ = page
    # Given the sign-in page
    browser_page.goto(page_url(stack))
    expect(browser_page.get_by_label("Bearer token")).to_be_focused()
    check_accessibility_and_shoot(browser_page, "sign-in")
    # When the token is typed and the form sent with the keyboard alone
    browser_page.keyboard.insert_text(tokens.valid(user))
    browser_page.keyboard.press("Tab")
    browser_page.keyboard.press("Enter")
    expect(browser_page.locator("#account-name")).to_have_text(user)
    # Then, on a fresh load (the tab keeps its sign-in), Tab reaches the skip link first, then each
    # section of the navigation, each visibly focused
    browser_page.reload()
    expect(browser_page.locator("#account-name")).to_have_text(user)
    browser_page.keyboard.press("Tab")
    expect(browser_page.get_by_role("link", name="Skip to content")).to_be_focused()
    for name in ("Files", "Reviews", "Webhooks", "Usage"):
        browser_page.keyboard.press("Tab")
        link = browser_page.get_by_role("navigation").get_by_role("link", name=name)
        expect(link).to_be_focused()
        assert link.evaluate("node => getComputedStyle(node).outlineStyle") != "none"
    # And Enter opens the focused section
    browser_page.keyboard.press("Enter")
    expect(browser_page.get_by_role("heading", level=1)).to_have_text("Usage and cost")
