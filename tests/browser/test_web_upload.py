"""The upload page (<api>/app/) in a real browser: the stock Uppy Dashboard and @uppy/aws-s3 plugin
upload through the Companion-style routes, and the page lists the files until they are processed.

What the page did is checked through the API and S3 themselves, not only through what it shows.
"""

from __future__ import annotations

import hashlib
import re
from functools import partial

import pytest
import requests
from playwright.sync_api import FilePayload, Page, expect

from infra import outputs as names
from tests.browser.support import SCREENSHOTS, TIMEOUT, Api, PageLog, page_url, text_file
from tests.e2e.conftest import AwsClients
from tests.e2e.polling import wait_for
from tools.stack import StackOutputs
from tools.token import TokenFactory

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024
UPLOAD_TIMEOUT_MS = 90_000
PROCESSING_TIMEOUT_MS = 120_000
# Uppy's hidden <input type=file> of the Dashboard (the other one, with webkitdirectory, picks folders).
FILE_INPUT = "input.uppy-Dashboard-input:not([webkitdirectory])"


def test_page_uploads_through_the_stock_uppy_plugin_and_lists_the_processed_files(
    stack: StackOutputs, aws: AwsClients, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    token = tokens.valid(user)
    small = b"Hello from Fileflow's upload page.\nA second line of plain text.\n"
    large = text_file(12 * MIB)
    # Given the page opened with a bearer token in the URL fragment
    browser_page.goto(f"{page_url(stack)}#token={token}")
    # Then it signs in (the token moves to sessionStorage, out of the address bar) and shows the Dashboard
    expect(browser_page.locator("#account-name")).to_have_text(user)
    expect(browser_page.locator(".uppy-Dashboard")).to_be_visible()
    assert "token" not in browser_page.url
    assert browser_page.evaluate("sessionStorage.getItem('fileflow.bearerToken')") == token

    # When a small text file and a 12 MiB one are added through Uppy's file input and uploaded
    browser_page.set_input_files(
        FILE_INPUT,
        files=[
            FilePayload(name="hello.txt", mimeType="text/plain", buffer=small),
            FilePayload(name="large-notes.txt", mimeType="text/plain", buffer=large),
        ],
    )
    browser_page.get_by_role("button", name=re.compile(r"^Upload 2 files")).click()
    # Then Uppy reaches its success state
    expect(browser_page.locator(".uppy-StatusBar.is-complete")).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    expect(browser_page.locator("#status")).to_have_text("2 files uploaded.")

    # And S3 holds both files byte for byte, their uploads completed: one form POST, one multipart
    api = Api(stack.api_url, token)
    listed = {file["filename"]: file for file in api.get("/v1/files?limit=10")["files"]}
    assert set(listed) == {"hello.txt", "large-notes.txt"}
    for filename, content, mode in (("hello.txt", small, "single"), ("large-notes.txt", large, "multipart")):
        detail = api.get(f"/v1/files/{listed[filename]['file_id']}")
        stored = aws.s3.get_object(Bucket=stack[names.BUCKET_NAME], Key=detail["original"]["key"])
        assert hashlib.sha256(stored["Body"].read()).hexdigest() == hashlib.sha256(content).hexdigest()
        # (the plugin completes a multipart upload; the page completes a form POST, just after)
        upload = wait_for(
            partial(api.completed_upload, detail["lineage"]["upload"]["upload_id"]),
            timeout=TIMEOUT,
            what=f"the upload of {filename} to be completed",
        )
        assert upload["mode"] == mode, filename
        assert upload["size"] == len(content), filename
    # (8 MiB parts, the API's own part size: 12 MiB is two parts)
    large_key = api.get(f"/v1/files/{listed['large-notes.txt']['file_id']}")["original"]["key"]
    assert aws.s3.head_object(Bucket=stack[names.BUCKET_NAME], Key=large_key)["ETag"].endswith('-2"')

    # And the page lists both files, refreshing until each shows it has been processed
    rows = browser_page.locator("#files-list .file-row")
    expect(rows).to_have_count(2)
    for filename in ("hello.txt", "large-notes.txt"):
        row = rows.filter(has_text=filename)
        expect(row.locator(".badge")).to_have_text("Processed", timeout=PROCESSING_TIMEOUT_MS)
    expect(browser_page.locator("#files-summary")).to_have_text("2 files, all processed.")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SCREENSHOTS / "uploaded-and-processed.png"), full_page=True)
    # And nothing was refused by the page's CSP, nor failed, on the way
    assert log.errors == []


def test_page_swaps_its_upload_token_before_it_expires(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, log = page
    # Given the page signed in, its clock under the test's control
    browser_page.clock.install()
    with browser_page.expect_response(lambda r: r.url.endswith("/v1/upload-tokens")) as first:
        browser_page.goto(f"{page_url(stack)}#token={tokens.valid(user)}")
    first_endpoint = first.value.json()["uppy_endpoint"]
    expect(browser_page.locator(".uppy-Dashboard")).to_be_visible()
    # When the upload token is 5 minutes from expiring (it lives an hour)
    with browser_page.expect_response(lambda r: r.url.endswith("/v1/upload-tokens")) as second:
        browser_page.clock.fast_forward("56:00")
    second_endpoint = second.value.json()["uppy_endpoint"]
    assert second_endpoint != first_endpoint
    # Then the next upload goes through the new token's endpoint
    with browser_page.expect_request(lambda r: "/uppy/" in r.url) as uppy_call:
        browser_page.set_input_files(
            FILE_INPUT, files=[FilePayload(name="later.txt", mimeType="text/plain", buffer=b"later\n")]
        )
        browser_page.get_by_role("button", name=re.compile(r"^Upload 1 file")).click()
    assert uppy_call.value.url.startswith(f"{second_endpoint}/s3/params?")
    expect(browser_page.locator(".uppy-StatusBar.is-complete")).to_be_visible(timeout=UPLOAD_TIMEOUT_MS)
    assert log.errors == []


def test_page_without_a_token_shows_the_sign_in_form(stack: StackOutputs, page: tuple[Page, PageLog]) -> None:
    browser_page, log = page
    # Given no token (no fragment, nothing in this tab's sessionStorage)
    # When the page opens
    browser_page.goto(page_url(stack))
    # Then it asks for a bearer token, with the field focused, and shows no uploader
    expect(browser_page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(browser_page.get_by_label("Bearer token")).to_be_focused()
    expect(browser_page.locator("#uploader")).to_be_hidden()
    expect(browser_page.locator("#status")).to_have_text("Sign in to upload files.")
    expect(browser_page.get_by_role("alert")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SCREENSHOTS / "sign-in.png"), full_page=True)
    assert log.errors == []


def test_a_refused_token_is_a_clear_error_and_is_forgotten(
    stack: StackOutputs, tokens: TokenFactory, user: str, page: tuple[Page, PageLog]
) -> None:
    browser_page, _ = page
    # Given the page without a token
    browser_page.goto(page_url(stack))
    # When a token signed with another key is pasted into the sign-in form
    browser_page.get_by_label("Bearer token").fill(tokens.forged(user))
    browser_page.get_by_role("button", name="Sign in").click()
    # Then the page says it was not accepted and what to do, asks again, and keeps nothing
    alert = browser_page.get_by_role("alert")
    expect(alert).to_contain_text("This token was not accepted")
    expect(alert).to_contain_text("make token USER=alice")
    expect(browser_page.get_by_label("Bearer token")).to_be_visible()
    expect(browser_page.locator("#uploader")).to_be_hidden()
    assert browser_page.evaluate("sessionStorage.getItem('fileflow.bearerToken')") is None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser_page.screenshot(path=str(SCREENSHOTS / "refused-token.png"), full_page=True)


def test_page_responses_carry_a_strict_csp_and_only_allow_listed_files(stack: StackOutputs) -> None:
    # Given the page's URL on the deployed stack
    base = page_url(stack)
    # When fetching the page and its files as the browser does
    index = requests.get(base, timeout=TIMEOUT)
    # Then the page comes with a CSP that allows scripts and styles from its own origin only
    assert index.status_code == 200
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = index.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert index.headers["Cache-Control"] == "no-cache"
    # And a versioned asset is cached for good, and revalidating the page costs a 304
    version = re.search(r'"static/app\.js\?v=([0-9a-f]+)"', index.text)
    assert version is not None
    script = requests.get(f"{base}static/app.js?v={version.group(1)}", timeout=TIMEOUT)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" in script.headers["Cache-Control"]
    again = requests.get(base, headers={"If-None-Match": index.headers["ETag"]}, timeout=TIMEOUT)
    assert again.status_code == 304
    # And a name off the allow-list, or one climbing out of static/, is not found
    for path in ("static/handler.py", "static/..%2F..%2Ffileflow_api%2Fhandler.py", "static/index.html"):
        assert requests.get(f"{base}{path}", timeout=TIMEOUT).status_code == 404, path
