"""HLS playlist rewriting (a pure function) and the service that serves a file's playlists (fakes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from fileflow_api.files.errors import UnknownFileError
from fileflow_api.files.model import DerivativeRecord, FileRecord
from fileflow_api.hls.errors import PlaylistInvalidError, UnknownPlaylistError
from fileflow_api.hls.service import (
    HlsPolicy,
    HlsService,
    playlist_duration,
    rewrite_playlist,
)

USER, FILE = "user-alice", "video1"

MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="hls-audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"
hls-720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"
hls-360p.m3u8
"""

MEDIA = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="hls-720p-init.mp4"
#EXTINF:6.000,
hls-720p-00000.ts
#EXTINF:4.5,
hls-720p-00001.ts
#EXT-X-ENDLIST
"""


def table(names: list[str]) -> dict[str, str]:
    return {name: f"https://signed.example/{name}?sig=1" for name in names}


def resolver(known: dict[str, str]) -> Callable[[str], str | None]:
    return known.get


# --- rewrite_playlist ------------------------------------------------------------------------------------


def test_a_master_playlist_has_every_variant_and_rendition_uri_rewritten() -> None:
    # Given a master playlist naming its media playlists by bare name (a URI line and a URI attribute)
    known = table(["hls-720p.m3u8", "hls-360p.m3u8", "hls-audio.m3u8"])
    # When rewritten
    out = rewrite_playlist(MASTER, resolver(known)).splitlines()
    # Then each reference is replaced, every other line and attribute kept as it was
    assert out == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,'
        'URI="https://signed.example/hls-audio.m3u8?sig=1"',
        '#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
        "https://signed.example/hls-720p.m3u8?sig=1",
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"',
        "https://signed.example/hls-360p.m3u8?sig=1",
    ]


def test_a_media_playlist_has_its_segments_and_init_section_rewritten() -> None:
    known = table(["hls-720p-init.mp4", "hls-720p-00000.ts", "hls-720p-00001.ts"])
    out = rewrite_playlist(MEDIA.replace("\n", "\r\n"), resolver(known))
    assert out.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:6",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        '#EXT-X-MAP:URI="https://signed.example/hls-720p-init.mp4?sig=1"',
        "#EXTINF:6.000,",
        "https://signed.example/hls-720p-00000.ts?sig=1",
        "#EXTINF:4.5,",
        "https://signed.example/hls-720p-00001.ts?sig=1",
        "#EXT-X-ENDLIST",
    ]
    assert out.endswith("#EXT-X-ENDLIST\n")


@pytest.mark.parametrize(
    "reference",
    [
        "https://evil.example/seg.ts",
        "//evil.example/seg.ts",
        "../other-file/hls-720p-00000.ts",
        "/derived/user-bob/f/hls-720p-00000.ts",
        "hls-720p-00000.ts?x=1",
        "not-a-derivative.ts",
    ],
)
def test_a_reference_that_is_not_a_derivative_refuses_the_whole_playlist(reference: str) -> None:
    known = table(["hls-720p-00000.ts"])
    text = f"#EXTM3U\n#EXTINF:6,\nhls-720p-00000.ts\n#EXTINF:6,\n{reference}\n"
    with pytest.raises(PlaylistInvalidError, match="is not one of the file's derivatives") as refused:
        rewrite_playlist(text, resolver(known))
    assert reference[:40] in str(refused.value)


def test_uri_attributes_of_any_tag_are_checked_and_extinf_titles_are_not_references() -> None:
    # A key server outside the file's derivatives is refused, like any other reference
    with pytest.raises(PlaylistInvalidError, match=re.escape("skd://keys.example/1")):
        rewrite_playlist('#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://keys.example/1"\n', resolver({}))
    with pytest.raises(PlaylistInvalidError, match=re.escape("https://x.example/data.json")):
        rewrite_playlist(
            '#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID="x",URI="https://x.example/data.json"\n', resolver({})
        )
    # While a title mentioning URI= is free text, and comments are kept
    known = table(["s.ts"])
    out = rewrite_playlist("#EXTM3U\n# made by URI=x\n#EXTINF:2,URI=not-a-tag\ns.ts\n", resolver(known))
    assert out.splitlines() == ["#EXTM3U", "# made by URI=x", "#EXTINF:2,URI=not-a-tag", known["s.ts"]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "first line is not #EXTM3U"),
        ("hls-720p.m3u8\n", "first line is not #EXTM3U"),
        ("<html>not a playlist</html>", "first line is not #EXTM3U"),
        ("#EXTM3U\n#EXT-X-MAP:URI=init.mp4\n", "URI must be a quoted string"),
        ('#EXTM3U\n#EXT-X-MAP:URI="a"junk\n', "malformed attribute list in #EXT-X-MAP"),
        ('#EXTM3U\n#EXT-X-MAPURI="a"\n', "malformed tag"),
    ],
)
def test_what_is_not_a_well_formed_playlist_is_refused(text: str, message: str) -> None:
    with pytest.raises(PlaylistInvalidError, match=re.escape(message)):
        rewrite_playlist(text, resolver({"init.mp4": "u", "a": "u"}))


def test_the_duration_of_a_playlist_is_the_sum_of_its_segments() -> None:
    assert playlist_duration(MEDIA) == pytest.approx(10.5)
    assert playlist_duration(MASTER) == 0


# --- HlsService -------------------------------------------------------------------------------------------


def derivative(name: str, *, user: str = USER) -> DerivativeRecord:
    return DerivativeRecord(name=name, key=f"derived/{user}/{FILE}/{name}", content_type=None, size=None)


class FakeFiles:
    def __init__(self, derivatives: list[DerivativeRecord]) -> None:
        self.file = FileRecord(
            user_id=USER,
            file_id=FILE,
            key=f"uploads/{USER}/{FILE}",
            filename="clip.mp4",
            content_type="video/mp4",
            status="processed",
            created_at="2026-12-01T10:00:00.000Z",
            derivatives=tuple(derivatives),
        )

    def get(self, user_id: str, file_id: str) -> FileRecord | None:
        return self.file if (user_id, file_id) == (USER, FILE) else None


class FakeObjects:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.signed: list[tuple[str, int]] = []

    def presign_get(self, key: str, *, version_id: str | None, expires_in: int, filename: str | None) -> str:
        self.signed.append((key, expires_in))
        return f"https://s3.test/{key}?X-Amz-Expires={expires_in}"

    def read_object(self, key: str, *, max_bytes: int) -> bytes | None:
        data = self.objects.get(key)
        return None if data is None else data[: max_bytes + 1]


NAMES = ["hls-master.m3u8", "hls-720p.m3u8", "hls-720p-init.mp4", "hls-720p-00000.ts", "hls-720p-00001.ts"]


def service(
    objects: dict[str, str | bytes] | None = None,
    *,
    names: list[str] = NAMES,
    derivatives: list[DerivativeRecord] | None = None,
    policy: HlsPolicy | None = None,
) -> tuple[HlsService, FakeObjects]:
    stored = {
        f"derived/{USER}/{FILE}/hls-master.m3u8": "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhls-720p.m3u8\n",
        f"derived/{USER}/{FILE}/hls-720p.m3u8": MEDIA,
        **(objects or {}),
    }
    fake = FakeObjects({key: v.encode() if isinstance(v, str) else v for key, v in stored.items()})
    files = FakeFiles(derivatives if derivatives is not None else [derivative(n) for n in names])
    return HlsService(files=files, objects=fake, policy=policy), fake


def route(name: str) -> str:
    return f"https://api.example/prod/v1/files/{FILE}/hls/{name}"


def test_a_master_playlist_points_at_the_api_and_signs_nothing() -> None:
    hls, objects = service()
    served = hls.playlist(USER, FILE, "hls-master.m3u8", route_url=route)
    assert served.text.splitlines()[-1] == route("hls-720p.m3u8")
    assert objects.signed == []
    assert served.max_age == 60


def test_segment_urls_outlive_the_playback_but_never_the_cap() -> None:
    # Given a 10.5 s rendition and a 5 min download TTL
    hls, objects = service()
    served = hls.playlist(USER, FILE, "hls-720p.m3u8", route_url=route)
    # Then every segment (and the init section) is signed for 300 + 11 s
    assert objects.signed == [
        (f"derived/{USER}/{FILE}/{name}", 311)
        for name in ("hls-720p-init.mp4", "hls-720p-00000.ts", "hls-720p-00001.ts")
    ]
    assert "X-Amz-Expires=311" in served.text
    # And a playlist of 3 hours is capped at the maximum (1 h by default); a player may cache it 60 s
    long_media = "#EXTM3U\n" + "#EXTINF:10800,\nhls-720p-00000.ts\n"
    hls, objects = service({f"derived/{USER}/{FILE}/hls-720p.m3u8": long_media})
    assert hls.playlist(USER, FILE, "hls-720p.m3u8", route_url=route).max_age == 60
    assert objects.signed == [(f"derived/{USER}/{FILE}/hls-720p-00000.ts", 3600)]
    # And a short TTL keeps max-age below half of it
    hls, _ = service(policy=HlsPolicy(url_ttl=timedelta(seconds=60), max_url_ttl=timedelta(seconds=60)))
    assert hls.playlist(USER, FILE, "hls-720p.m3u8", route_url=route).max_age == 30


def test_only_the_owners_playlists_are_served() -> None:
    hls, _ = service(names=[*NAMES, "poster.jpg"])
    with pytest.raises(UnknownFileError, match="no file 'video1'") as other_user:
        hls.playlist("user-bob", FILE, "hls-master.m3u8", route_url=route)
    assert other_user.value.code == "FileNotFound"
    for name in ("hls-1080p.m3u8", "poster.jpg", "../hls-master.m3u8"):
        with pytest.raises(
            UnknownPlaylistError, match=re.escape(f"file video1 has no HLS playlist {name!r}")
        ) as missing:
            hls.playlist(USER, FILE, name, route_url=route)
        assert missing.value.code == "PlaylistNotFound"


def test_a_derivative_recorded_outside_the_files_prefix_is_neither_served_nor_signed() -> None:
    # Given a segment whose record points into another user's prefix
    foreign = DerivativeRecord(
        name="hls-720p-00001.ts",
        key=f"derived/user-bob/{FILE}/hls-720p-00001.ts",
        content_type=None,
        size=None,
    )
    hls, objects = service(derivatives=[derivative(n) for n in NAMES if n != foreign.name] + [foreign])
    # When its playlist is asked for / Then the playlist is refused, and nothing of Bob's is signed
    with pytest.raises(PlaylistInvalidError, match=re.escape("'hls-720p-00001.ts', which is not one of")):
        hls.playlist(USER, FILE, "hls-720p.m3u8", route_url=route)
    assert all("user-bob" not in key for key, _ in objects.signed)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        (None, "hls-720p.m3u8 is recorded but not stored"),
        (b"#EXTM3U\n" + b"#" * 2048, "larger than 1024 bytes"),
        (b"#EXTM3U\n\xff\xfe", "not UTF-8"),
    ],
)
def test_a_stored_playlist_that_cannot_be_read_is_a_502(stored: bytes | None, message: str) -> None:
    hls, objects = service(policy=HlsPolicy(max_playlist_bytes=1024))
    key = f"derived/{USER}/{FILE}/hls-720p.m3u8"
    if stored is None:
        del objects.objects[key]
    else:
        objects.objects[key] = stored
    with pytest.raises(PlaylistInvalidError, match=message):
        hls.playlist(USER, FILE, "hls-720p.m3u8", route_url=route)
