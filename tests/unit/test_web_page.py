"""The upload page's routes: the allow-list, the CSP and cache headers, the modules' versioned imports,
and where presigned URLs point."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fileflow_api.app import create_app
from fileflow_api.page.assets import WebPage, content_security_policy
from fileflow_api.uploads.storage import S3UploadStorage
from fileflow_common.aws import clear_cached_clients, s3_client, s3_presigner
from fileflow_web import PAGE_MODULES, STATIC_FILES
from tests.unit.api_dependencies import api_dependencies

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
S3_ORIGIN = "https://files-bucket.s3.eu-west-1.amazonaws.com"
INDEX = (
    b'<link rel="stylesheet" href="static/app.css">'
    b'<script type="module" src="static/app.js"></script>'
    b'<link rel="stylesheet" href="static/uppy.min.css">'
)
FILES = {
    "index.html": INDEX,
    "app.js": (
        b"import { Uppy } from './uppy.min.mjs'\nimport { el } from \"./dom.js\"\nimport('./hls.min.mjs')"
    ),
    "dom.js": b"export const el = () => null",
    "app.css": b"body { margin: 0 }",
    "uppy.min.mjs": b"export class Uppy {}",
    "uppy.min.css": b".uppy {}",
    "hls.min.mjs": b"export default class Hls {}",
}


@pytest.fixture
def web_page() -> WebPage:
    return WebPage.build(FILES, STATIC_FILES, connect_origins=[S3_ORIGIN])


@pytest.fixture
def client(web_page: WebPage) -> Iterator[TestClient]:
    app = create_app(api_dependencies(web_page=lambda: web_page))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_page_is_served_with_a_strict_csp_allowing_uploads_to_s3(client: TestClient) -> None:
    # When the page is requested
    response = client.get("/app/")
    # Then it is HTML whose CSP allows scripts and styles from this origin only, and S3 for uploads
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert f"connect-src 'self' {S3_ORIGIN};" in csp
    # (thumbnails and posters are presigned S3 GETs; hls.js plays through a Media Source blob: URL)
    assert f"img-src 'self' data: blob: {S3_ORIGIN};" in csp
    assert "media-src 'self' blob:;" in csp
    assert "worker-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_page_names_its_files_by_content_version_which_are_then_cached_for_good(
    client: TestClient, web_page: WebPage
) -> None:
    # Given the page's HTML
    html = client.get("/app/").text
    # Then each file it names carries its content's version ...
    for name in ("app.css", "app.js", "uppy.min.css"):
        version = web_page.assets[name].version
        assert f'"static/{name}?v={version}"' in html
        # ... and that URL is cacheable for a year, with its media type
        response = client.get(f"/app/static/{name}?v={version}")
        assert response.status_code == 200
        assert response.content == web_page.assets[name].body
        assert response.headers["content-type"] == STATIC_FILES[name]
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    # And a file fetched without (or with another) version is revalidated instead
    assert client.get("/app/static/uppy.min.mjs").headers["cache-control"] == "no-cache"
    assert client.get("/app/static/app.js?v=0000").headers["cache-control"] == "no-cache"


def test_modules_import_each_other_by_content_version_cached_for_good(
    client: TestClient, web_page: WebPage
) -> None:
    # Given the served entry module
    script = client.get(f"/app/static/app.js?v={web_page.assets['app.js'].version}").text
    # Then its static and dynamic imports name each file by its version, quotes kept ...
    uppy, dom, hls = (web_page.assets[name].version for name in ("uppy.min.mjs", "dom.js", "hls.min.mjs"))
    assert script == (
        f"import {{ Uppy }} from './uppy.min.mjs?v={uppy}'\n"
        f'import {{ el }} from "./dom.js?v={dom}"\n'
        f"import('./hls.min.mjs?v={hls}')"
    )
    # ... the other files are served as they are ...
    assert web_page.assets["dom.js"].body == FILES["dom.js"]
    # ... and each imported URL is cacheable for a year, as the page's own
    for name, version in (("uppy.min.mjs", uppy), ("dom.js", dom), ("hls.min.mjs", hls)):
        response = client.get(f"/app/static/{name}?v={version}")
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable", name


def test_a_change_in_an_imported_module_reaches_the_page() -> None:
    # Given the page, then the same page with dom.js (imported by app.js) changed
    before = WebPage.build(FILES, STATIC_FILES, connect_origins=[])
    after = WebPage.build({**FILES, "dom.js": b"export const el = () => 1"}, STATIC_FILES, connect_origins=[])
    # Then the modules importing it get new versions too, up to the page naming app.js
    assert after.assets["dom.js"].version != before.assets["dom.js"].version
    assert after.assets["app.js"].version != before.assets["app.js"].version
    assert after.assets["index.html"].body != before.assets["index.html"].body
    # And what nothing imports keeps its version
    assert after.assets["app.css"].version == before.assets["app.css"].version


def test_modules_importing_each_other_in_a_cycle_are_refused() -> None:
    cycle = {**FILES, "dom.js": b"import { x } from './api.js'", "api.js": b"import { el } from './dom.js'"}
    with pytest.raises(ValueError, match=r"cycle: .*dom\.js -> api\.js -> dom\.js"):
        WebPage.build(cycle, {**STATIC_FILES, "api.js": STATIC_FILES["dom.js"]}, connect_origins=[])


def test_the_pages_modules_import_only_served_files_by_version() -> None:
    # Given the page as web/ holds it (the vendors' bundles stood in for)
    files = {name: (WEB_DIR / name).read_bytes() for name in ("index.html", "app.css", *PAGE_MODULES)}
    files |= {name: b"" for name in ("uppy.min.mjs", "uppy.min.css", "hls.min.mjs")}
    page = WebPage.build(files, STATIC_FILES, connect_origins=[])
    imported: set[str] = set()
    for name in PAGE_MODULES:
        # Then every import of every module names a served file by its current version
        for target, version in re.findall(
            r"""(?:from|import\(?)\s*'\./([^'?]+)\?v=([0-9a-f]+)'""", page.assets[name].body.decode()
        ):
            assert page.assets[target].version == version, (name, target)
            imported.add(target)
        assert not re.search(
            r"""(?:from|import\(?)\s*['"]\./[^'"?]+['"]""", page.assets[name].body.decode()
        ), name
    # And every module but the entry is imported by another: none is served for nothing
    assert imported >= set(PAGE_MODULES) - {"app.js"}
    assert {"uppy.min.mjs", "hls.min.mjs"} <= imported


def test_unchanged_files_are_revalidated_with_a_304(client: TestClient) -> None:
    # Given the page's ETag
    first = client.get("/app/static/uppy.min.mjs")
    etag = first.headers["etag"]
    # When asked again with If-None-Match (as a strong, a weak or one of several tags)
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        again = client.get("/app/static/uppy.min.mjs", headers={"If-None-Match": header})
        # Then 304 without a body, still with the CSP
        assert again.status_code == 304, header
        assert again.content == b""
        assert "content-security-policy" in again.headers
    # And another tag gets the file
    assert client.get("/app/static/uppy.min.mjs", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/app/static/handler.py",
        "/app/static/uppy.min.mjs.map",
        "/app/static/..%2Fhandler.py",
        "/app/static/%2E%2E%2F%2E%2E%2Fsettings.py",
        "/app/static/index.html",  # the page lives at /app/ only
        "/app/static/",
        "/app/other",
    ],
)
def test_only_allow_listed_names_are_served(client: TestClient, path: str) -> None:
    # When a name off the allow-list (or a path climbing out of static/) is requested
    response = client.get(path)
    # Then it is not found
    assert response.status_code == 404


def test_app_without_slash_redirects_relatively(client: TestClient) -> None:
    # When /app is requested (relative URLs in the page need the trailing slash)
    response = client.get("/app", follow_redirects=False)
    # Then a relative redirect keeps the stage or base path the function does not see
    assert response.status_code == 308
    assert response.headers["location"] == "app/"


def test_page_is_not_part_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/app")]


def test_without_a_web_page_the_routes_are_not_found() -> None:
    app = create_app(api_dependencies())
    with TestClient(app) as client:
        assert client.get("/app/").status_code == 404


def test_build_needs_the_index_and_a_media_type_for_every_file() -> None:
    with pytest.raises(ValueError, match=r"index\.html"):
        WebPage.build({"app.js": b""}, STATIC_FILES, connect_origins=[])
    with pytest.raises(ValueError, match="media type"):
        WebPage.build({**FILES, "evil.sh": b""}, STATIC_FILES, connect_origins=[])


def test_csp_lists_each_origin_once() -> None:
    csp = content_security_policy(["http://127.0.0.1:4566", "http://127.0.0.1:4566"])
    assert "connect-src 'self' http://127.0.0.1:4566;" in csp


@pytest.fixture
def fresh_clients() -> Iterator[None]:
    """The cached boto3 clients are built again from the environment each test sets."""
    clear_cached_clients()
    yield
    clear_cached_clients()


def presigning_storage(
    monkeypatch: pytest.MonkeyPatch, region: str, endpoint_url: str | None = None
) -> S3UploadStorage:
    """The storage as the API function builds it (aws.s3_presigner), for a region and endpoint."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")  # signing only: nothing is sent
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    if endpoint_url is None:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint_url)
    return S3UploadStorage(s3_client(), "files-bucket", presigner=s3_presigner())


@pytest.mark.usefixtures("fresh_clients")
@pytest.mark.parametrize(
    ("region", "origin"),
    [
        ("eu-west-1", S3_ORIGIN),
        # us-east-1's regional endpoint is also its legacy global name
        ("us-east-1", "https://files-bucket.s3.amazonaws.com"),
    ],
)
def test_presigned_urls_on_aws_go_to_the_buckets_regional_endpoint(
    monkeypatch: pytest.MonkeyPatch, region: str, origin: str
) -> None:
    # Given the API's presigner on AWS (no endpoint override)
    storage = presigning_storage(monkeypatch, region)
    # When asking where its presigned PUTs and form POSTs go
    # Then to the bucket's virtual-hosted regional endpoint: the origin the page's CSP allows
    assert storage.presigned_url_origins() == (origin,)


@pytest.mark.usefixtures("fresh_clients")
def test_presigned_urls_on_the_local_cloud_go_to_its_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the local cloud's endpoint (AWS_ENDPOINT_URL in every function it runs)
    storage = presigning_storage(monkeypatch, "us-east-1", "http://127.0.0.1:4566")
    # Then the page's origin and S3's are one: the local cloud's gateway (path-style URLs)
    assert storage.presigned_url_origins() == ("http://127.0.0.1:4566",)
