"""The upload page's files and the headers every answer carries (served by routes.py). No dependencies.

Only the names of fileflow_web.STATIC_FILES are served (no path is ever built from the request). Every
answer carries a strict Content-Security-Policy: scripts, styles and fonts from this origin only, and
connections and images from this origin and the S3 origins of the presigned URLs (uploads, downloads,
thumbnails, HLS segments).

Caching: index.html is revalidated on every load (`no-cache` + ETag, so usually a 304); it names its
stylesheets and scripts with `?v=<content hash>`, and such a versioned URL is cached for a year. The
page's ES modules name what they import the same way (`from './dom.js?v=...'`, Uppy's and hls.js's
bundles too), so a load costs one request, the page's 304, however many modules there are. A URL
without its current version is revalidated like index.html.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi import Request, Response, status
from fastapi.exceptions import HTTPException

INDEX = "index.html"
_VERSION_LENGTH = 16
_REVALIDATE = "no-cache"
_IMMUTABLE = "public, max-age=31536000, immutable"
# A module's import of a file beside it: `from './x.js'`, `import './x.js'`, `import('./x.js')`.
_SIBLING_IMPORT = re.compile(
    rb"""(?P<keyword>\bfrom\s*|\bimport\s*\(?\s*)(?P<quote>['"])\./(?P<name>[\w.-]+)(?P=quote)"""
)


def content_security_policy(connect_origins: Sequence[str]) -> str:
    """The page's CSP: nothing inline, nothing from elsewhere but the given S3 origins.

    The S3 origins are those of the presigned URLs: uploads and HLS segments (`connect-src`), thumbnails
    and video posters (`img-src`). `img-src data: blob:`: Uppy's stylesheet draws icons as data: URIs and
    its Dashboard previews files through blob: URLs. `media-src blob:`: hls.js plays through Media Source
    Extensions, whose object URL is a blob: (it runs without a worker, so no worker-src). No
    'unsafe-inline' and no 'unsafe-eval' anywhere.
    """
    origins = " ".join(sorted(set(connect_origins)))
    connect = f"'self' {origins}".strip()
    images = f"'self' data: blob: {origins}".strip()
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@dataclass(frozen=True, slots=True)
class StaticAsset:
    body: bytes
    media_type: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _version(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:_VERSION_LENGTH]


def _is_script(media_type: str) -> bool:
    return media_type.startswith("text/javascript")


def _pin_imports(files: Mapping[str, bytes], media_types: Mapping[str, str]) -> dict[str, bytes]:
    """The files, each script's imports of the others pinned to `?v=<content hash>` of what they import.

    The hash is taken after pinning, so it covers everything below a module: a change in dom.js moves the
    versions of the modules importing it, up to app.js and the page. Imports of names the page does not
    serve are left as they are (they answer 404); a cycle of imports has no such version and is refused.
    """
    pinned: dict[str, bytes] = {}
    pinning: list[str] = []

    def pin(name: str) -> bytes:
        if name in pinned:
            return pinned[name]
        if name in pinning:
            cycle = " -> ".join([*pinning, name])
            raise ValueError(f"the page's modules import each other in a cycle: {cycle}")
        pinning.append(name)

        def versioned(match: re.Match[bytes]) -> bytes:
            target = match["name"].decode()
            if target == INDEX or target not in files:
                return match[0]
            quote = match["quote"]
            return match["keyword"] + quote + f"./{target}?v={_version(pin(target))}".encode() + quote

        body = files[name]
        pinned[name] = _SIBLING_IMPORT.sub(versioned, body) if _is_script(media_types[name]) else body
        pinning.pop()
        return pinned[name]

    for name in files:
        pin(name)
    return pinned


@dataclass(frozen=True, slots=True)
class WebPage:
    """The page's files (the allow-list is their names) and the headers every answer carries."""

    assets: Mapping[str, StaticAsset]
    headers: Mapping[str, str]

    @classmethod
    def build(
        cls, files: Mapping[str, bytes], media_types: Mapping[str, str], *, connect_origins: Sequence[str]
    ) -> WebPage:
        """`files` by name (index.html among them); index.html's `static/<name>` references and the
        scripts' imports of each other get versioned."""
        if INDEX not in files or set(files) - set(media_types):
            raise ValueError(f"the page needs {INDEX} and a media type for every file: {sorted(files)}")
        pinned = _pin_imports(files, media_types)
        assets = {
            name: StaticAsset(body, media_types[name], _version(body))
            for name, body in pinned.items()
            if name != INDEX
        }
        index = files[INDEX]
        for name, asset in assets.items():
            index = index.replace(f'"static/{name}"'.encode(), f'"static/{name}?v={asset.version}"'.encode())
        assets[INDEX] = StaticAsset(index, media_types[INDEX], _version(index))
        headers = {
            "Content-Security-Policy": content_security_policy(connect_origins),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            # The Uppy endpoint's path holds the upload token: never send it anywhere as a referrer.
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        }
        return cls(assets=assets, headers=headers)

    def respond(self, name: str, request: Request) -> Response:
        asset = self.assets.get(name)
        if asset is None:
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND)
        versioned = name != INDEX and request.query_params.get("v") == asset.version
        headers = {
            **self.headers,
            "ETag": asset.etag,
            "Cache-Control": _IMMUTABLE if versioned else _REVALIDATE,
        }
        if asset.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(content=asset.body, media_type=asset.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header (weak ones compare equal, RFC 9110 8.8.3.2)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
