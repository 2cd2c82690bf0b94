"""HLS playlists of a video file, served by the API with every reference rewritten. No boto3.

The video stage writes a master playlist, one media playlist per rendition and their segments as
derivatives, the playlists naming each other by bare derivative name (relative URIs). The bucket is
private, so a player cannot follow those names; the API serves each playlist with:

- a reference to another playlist (`.m3u8` derivative) -> this API's own route for it, so the player comes
  back through the API (owner check, fresh signatures) for every playlist;
- a reference to any other derivative (segment, init section, key) -> a presigned GET, valid for the
  download TTL plus the playlist's duration (capped), so a whole playback fits in it;
- anything else (an absolute URL, `../x`, a name that is not one of the file's derivatives) -> the
  playlist is refused (502 PlaylistInvalid): the API never passes through a reference it did not check.

`rewrite_playlist` is a pure function of the text (RFC 8216: URI lines and `URI="..."` attributes).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from fileflow_api.files.model import DerivativeRecord
from fileflow_api.files.service import FileLookup, live_file, owns_derivative
from fileflow_api.hls.errors import PlaylistInvalidError, UnknownPlaylistError

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"
PLAYLIST_SUFFIX = ".m3u8"
# An attribute of an attribute list (RFC 8216 4.2): NAME=value, the value quoted or not.
_ATTRIBUTE = re.compile(r'[ \t]*([A-Z0-9-]+)=("[^"\r\n]*"|[^",\r\n]*?)[ \t]*(,|$)')
_EXTINF = re.compile(r"#EXTINF:\s*([0-9]+(?:\.[0-9]*)?)")


# --- the pure part ------------------------------------------------------------------------------------------


def rewrite_playlist(text: str, resolve: Callable[[str], str | None]) -> str:
    """Every URI of the playlist passed through `resolve`; None from it refuses the whole playlist."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    if first != "#EXTM3U":
        raise PlaylistInvalidError("not an HLS playlist: the first line is not #EXTM3U")

    def resolved(reference: str) -> str:
        url = resolve(reference)
        if url is None:
            raise PlaylistInvalidError(
                f"the playlist references {reference[:200]!r}, which is not one of the file's derivatives"
            )
        return url

    out = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            out.append("")
        elif not stripped.startswith("#"):
            out.append(resolved(stripped))  # a URI line: a segment or a variant's playlist
        elif stripped.startswith("#EXT") and not stripped.startswith("#EXTINF") and "URI=" in stripped:
            # Any tag holding a URI attribute, known or not, is checked (#EXTINF's title is free text).
            out.append(_rewrite_attributes(stripped, resolved))
        else:
            out.append(stripped)
    return "\n".join(out).rstrip("\n") + "\n"


def _rewrite_attributes(line: str, resolved: Callable[[str], str]) -> str:
    """The `URI="..."` attributes of a tag (EXT-X-MAP, -KEY, -MEDIA, -I-FRAME-STREAM-INF, ...) resolved."""
    tag, colon, attributes = line.partition(":")
    if not colon:
        raise PlaylistInvalidError(f"malformed tag {line[:80]!r}")
    rewritten, position = [], 0
    while position < len(attributes):
        matched = _ATTRIBUTE.match(attributes, position)
        if matched is None:
            raise PlaylistInvalidError(f"malformed attribute list in {tag[:40]}")
        name, value, separator = matched.groups()
        if name == "URI":
            if not (value.startswith('"') and value.endswith('"') and len(value) >= 2):
                raise PlaylistInvalidError(f"{tag[:40]}: URI must be a quoted string")
            value = f'"{resolved(value[1:-1])}"'
        rewritten.append(f"{name}={value}{separator}")
        position = matched.end()
    return f"{tag}:{''.join(rewritten)}"


def playlist_duration(text: str) -> float:
    """The sum of the segments' #EXTINF durations, in seconds (0 for a master playlist)."""
    return sum(float(matched.group(1)) for matched in _EXTINF.finditer(text))


# --- the service --------------------------------------------------------------------------------------------


class PlaylistObjects(Protocol):
    def presign_get(
        self, key: str, *, version_id: str | None, expires_in: int, filename: str | None
    ) -> str: ...

    def read_object(self, key: str, *, max_bytes: int) -> bytes | None:
        """Up to `max_bytes` + 1 bytes of the object (more than `max_bytes`: too large); None if missing."""
        ...


@dataclass(frozen=True, slots=True)
class HlsPolicy:
    url_ttl: timedelta = timedelta(minutes=5)  # the download TTL (DOWNLOAD_URL_TTL_SECONDS)
    max_url_ttl: timedelta = timedelta(hours=1)  # a long video's segment URLs never live longer
    cache_max_age: int = 60  # seconds a player may reuse a playlist (always under the URLs' lifetime)
    max_playlist_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Playlist:
    text: str
    max_age: int  # seconds: Cache-Control max-age


class HlsService:
    def __init__(
        self, *, files: FileLookup, objects: PlaylistObjects, policy: HlsPolicy | None = None
    ) -> None:
        self._files = files
        self._objects = objects
        self._policy = policy or HlsPolicy()

    def playlist(self, user_id: str, file_id: str, name: str, *, route_url: Callable[[str], str]) -> Playlist:
        """The playlist `name` of the caller's file; `route_url(name)` is this API's URL of a playlist."""
        file = live_file(self._files, user_id, file_id)
        derivatives = {d.name: d for d in file.derivatives if owns_derivative(user_id, file_id, d)}
        stored = derivatives.get(name)
        if stored is None or not name.endswith(PLAYLIST_SUFFIX):
            raise UnknownPlaylistError(f"file {file_id} has no HLS playlist {name[:130]!r}")
        text = self._read(stored)
        url_ttl = self._url_ttl(text)

        def resolve(reference: str) -> str | None:
            target = derivatives.get(reference)
            if target is None:
                return None
            if reference.endswith(PLAYLIST_SUFFIX):
                return route_url(reference)
            return self._objects.presign_get(target.key, version_id=None, expires_in=url_ttl, filename=None)

        rewritten = rewrite_playlist(text, resolve)
        return Playlist(text=rewritten, max_age=min(self._policy.cache_max_age, url_ttl // 2))

    def _read(self, playlist: DerivativeRecord) -> str:
        limit = self._policy.max_playlist_bytes
        raw = self._objects.read_object(playlist.key, max_bytes=limit)
        if raw is None:
            raise PlaylistInvalidError(f"playlist {playlist.name} is recorded but not stored")
        if len(raw) > limit:
            raise PlaylistInvalidError(f"playlist {playlist.name} is larger than {limit} bytes")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlaylistInvalidError(f"playlist {playlist.name} is not UTF-8 (RFC 8216 4.1)") from exc

    def _url_ttl(self, text: str) -> int:
        """The download TTL plus the playlist's duration: a playback started in time ends in time."""
        base = self._policy.url_ttl.total_seconds()
        longest = max(base, self._policy.max_url_ttl.total_seconds())
        return int(min(longest, base + math.ceil(playlist_duration(text))))
