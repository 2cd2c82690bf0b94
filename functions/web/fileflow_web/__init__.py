"""The web page's static files, shipped in the `web` layer (layers/build.py copies them into `static/`).

Sources: web/ (index.html, app.js, app.css), Uppy's browser bundle from the pinned npm package
(node_modules/uppy/dist/uppy.min.mjs and uppy.min.css) and hls.js's (node_modules/hls.js/dist/hls.min.mjs,
imported by app.js when a video is shown). The API function serves exactly these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import MappingProxyType

# Every file the layer ships, by name, with the media type it is served as: the serving allow-list.
STATIC_FILES: Mapping[str, str] = MappingProxyType(
    {
        "index.html": "text/html; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8",
        "uppy.min.mjs": "text/javascript; charset=utf-8",
        "uppy.min.css": "text/css; charset=utf-8",
        "hls.min.mjs": "text/javascript; charset=utf-8",
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
