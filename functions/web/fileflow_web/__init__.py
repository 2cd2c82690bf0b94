"""The web page's static files, shipped in the `web` layer (layers/build.py copies them into `static/`).

Sources: web/ (index.html, app.css, and the page's ES modules: app.js and what it imports), Uppy's browser
bundle from the pinned npm package (node_modules/uppy/dist/uppy.min.mjs and uppy.min.css) and hls.js's
(node_modules/hls.js/dist/hls.min.mjs, imported by player.js when a video is shown). The API function
serves exactly these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType

_JAVASCRIPT = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"
# The page's ES modules (web/): app.js, the entry index.html names, then what it imports (docs/web.md).
PAGE_MODULES = (
    "app.js",
    "api.js",
    "dom.js",
    "messages.js",
    "router.js",
    "session.js",
    "status.js",
    "uploads.js",
    "resume.js",
    "files.js",
    "detail.js",
    "analysis.js",
    "player.js",
    "reviews.js",
    "webhooks.js",
    "usage.js",
)
# Every file the layer ships, by name, with the media type it is served as: the serving allow-list.
STATIC_FILES: Mapping[str, str] = MappingProxyType(
    {
        "index.html": "text/html; charset=utf-8",
        **dict.fromkeys(PAGE_MODULES, _JAVASCRIPT),
        "app.css": _CSS,
        "uppy.min.mjs": _JAVASCRIPT,
        "uppy.min.css": _CSS,
        "hls.min.mjs": _JAVASCRIPT,
    }
)


class StaticFileMissingError(LookupError):
    """A file of the allow-list is not in the layer: the layer was built from an incomplete tree."""


def static_dir() -> Traversable:
    return files(__name__) / "static"


def read_static_files() -> dict[str, bytes]:
    """The content of every file of STATIC_FILES, read from the installed package."""
    directory = static_dir()
    contents: dict[str, bytes] = {}
    for name in STATIC_FILES:
        path = directory / name
        if not path.is_file():
            raise StaticFileMissingError(f"{name} is missing from the web layer: rebuild it (make layers)")
        contents[name] = path.read_bytes()
    return contents
