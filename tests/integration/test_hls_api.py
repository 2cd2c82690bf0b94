"""GET /v1/files/{id}/hls/{playlist} through the Lambda handler, against moto: a video's playlists as the
video stage stores them (bare derivative names), served with playlists pointing back at the API and
segments as presigned GETs that a player can fetch.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fileflow_api.handler import lambda_handler
from tests.integration.api_requests import ALICE, BOB, api_event, call
from tests.integration.conftest import BUCKET_NAME, Cloud, FakeLambdaContext

API_BASE = "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod"  # events/api/initiate_upload.json
MASTER = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=2800000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2"
hls-720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2"
hls-360p.m3u8
"""


def media(rendition: str, durations: list[float]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for n, duration in enumerate(durations):
        lines += [f"#EXTINF:{duration:.3f},", f"hls-{rendition}-{n:05d}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


@pytest.fixture
def api(cloud: Cloud, lambda_context: FakeLambdaContext) -> FakeLambdaContext:
    return lambda_context


def serve(
    context: FakeLambdaContext, path: str, *, user: str = ALICE, request_path: str | None = None, **event: Any
) -> dict[str, Any]:
    """The raw API Gateway answer (a playlist is text, not JSON); `request_path` as the caller wrote it."""
    request = api_event("GET", path, user=user)
    if request_path is not None:
        request["requestContext"]["path"] = request_path
    request["requestContext"].update(event)
    response: dict[str, Any] = lambda_handler(request, context)
    return response


def store_video(cloud: Cloud, api: FakeLambdaContext, *, playlists: dict[str, str] | None = None) -> str:
    """A video file uploaded through the API, then processed as the video stage does it (S3 + file item)."""
    started = call(
        api,
        "POST",
        "/v1/uploads",
        body={"filename": "clip.mp4", "size": 4, "content_type": "application/octet-stream"},
    )
    assert started.status == 201, started.body
    file_id = str(started.body["file_id"])
    texts = {
        "hls-master.m3u8": MASTER,
        "hls-720p.m3u8": media("720p", [6.0, 6.0, 3.2]),
        "hls-360p.m3u8": media("360p", [6.0, 6.0, 3.2]),
        **(playlists or {}),
    }
    objects: dict[str, tuple[bytes, str]] = {
        name: (text.encode(), "application/vnd.apple.mpegurl") for name, text in texts.items()
    }
    for rendition in ("720p", "360p"):
        for n in range(3):
            objects[f"hls-{rendition}-{n:05d}.ts"] = (f"segment {rendition} {n}".encode(), "video/mp2t")
    objects["poster.jpg"] = (b"\xff\xd8poster", "image/jpeg")
    derivatives = []
    for name, (data, content_type) in objects.items():
        key = f"derived/{ALICE}/{file_id}/{name}"
        cloud.s3.put_object(Bucket=BUCKET_NAME, Key=key, Body=data, ContentType=content_type)
        derivatives.append({"name": name, "key": key, "content_type": content_type, "size": len(data)})
    cloud.table.update_item(
        Key={"pk": f"USER#{ALICE}", "sk": f"FILE#{file_id}"},
        UpdateExpression="SET derivatives = :d, #status = :s",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":d": derivatives, ":s": "processed"},
    )
    return file_id


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_a_player_follows_the_master_to_a_rendition_and_plays_its_segments(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    file_id = store_video(cloud, api)
    # When the owner's player loads the master playlist
    master = serve(api, f"/v1/files/{file_id}/hls/hls-master.m3u8")
    # Then a text playlist (not base64) whose variants are this API's routes, behind the stage prefix
    assert master["statusCode"] == 200, master["body"]
    assert master["isBase64Encoded"] is False
    assert master["headers"]["content-type"] == "application/vnd.apple.mpegurl"
    assert master["headers"]["cache-control"] == "private, max-age=60"
    assert uris(master["body"]) == [
        f"{API_BASE}/v1/files/{file_id}/hls/hls-720p.m3u8",
        f"{API_BASE}/v1/files/{file_id}/hls/hls-360p.m3u8",
    ]
    assert "X-Amz-Signature" not in master["body"]
    # When it follows the first variant (through the API again)
    variant = urlsplit(uris(master["body"])[0]).path.removeprefix("/prod")
    rendition = serve(api, variant)
    assert rendition["statusCode"] == 200, rendition["body"]
    # Then every segment is a presigned GET of its own key, valid for the TTL plus the 15.2 s of video
    segments = uris(rendition["body"])
    assert len(segments) == 3
    for n, url in enumerate(segments):
        assert urlsplit(url).path.endswith(f"/derived/{ALICE}/{file_id}/hls-720p-{n:05d}.ts")
        assert f"X-Amz-Expires={300 + math.ceil(15.2)}" in url
        fetched = requests.get(url, timeout=30)
        assert (fetched.status_code, fetched.content) == (200, f"segment 720p {n}".encode())
    # And the tags are kept
    assert "#EXTINF:3.200," in rendition["body"].splitlines()
    assert rendition["body"].rstrip().endswith("#EXT-X-ENDLIST")


def test_playlist_routes_follow_a_custom_domains_base_path(api: FakeLambdaContext, cloud: Cloud) -> None:
    # Given the API mapped under https://media.example.com/videos (a custom domain's base path)
    file_id = store_video(cloud, api)
    path = f"/v1/files/{file_id}/hls/hls-master.m3u8"
    master = serve(api, path, request_path=f"/videos{path}", domainName="media.example.com")
    assert uris(master["body"])[1] == f"https://media.example.com/videos/v1/files/{file_id}/hls/hls-360p.m3u8"


def test_only_the_owner_gets_a_playlist_and_only_of_the_files_playlists(
    api: FakeLambdaContext, cloud: Cloud
) -> None:
    file_id = store_video(cloud, api)
    # Another user: exactly what GET /v1/files/{id} answers them
    other = call(api, "GET", f"/v1/files/{file_id}/hls/hls-master.m3u8", user=BOB)
    assert (other.status, other.body) == (404, call(api, "GET", f"/v1/files/{file_id}", user=BOB).body)
    assert other.error_code == "FileNotFound"
    # The owner, asking for what is not one of the file's playlists
    for name in ("hls-1080p.m3u8", "poster.jpg", "hls-720p-00000.ts"):
        missing = call(api, "GET", f"/v1/files/{file_id}/hls/{name}")
        assert (missing.status, missing.body["error"]) == (
            404,
            {"code": "PlaylistNotFound", "message": f"file {file_id} has no HLS playlist {name!r}"},
        ), name
    assert call(api, "GET", f"/v1/files/{file_id}/hls/{'x' * 129}.m3u8").status == 422


@pytest.mark.parametrize(
    "reference",
    [
        "https://cdn.example.com/seg.ts",
        "../other-file/hls-720p-00000.ts",
        f"/{BUCKET_NAME}/derived/{BOB}/f/hls-720p-00000.ts",
        "hls-1080p-00000.ts",
    ],
)
def test_a_playlist_referencing_anything_but_the_files_derivatives_is_not_served(
    api: FakeLambdaContext, cloud: Cloud, reference: str
) -> None:
    # Given a stored rendition with one reference the API did not produce
    tampered = media("720p", [6.0]).replace("#EXT-X-ENDLIST", f"#EXTINF:6.000,\n{reference}\n#EXT-X-ENDLIST")
    file_id = store_video(cloud, api, playlists={"hls-720p.m3u8": tampered})
    # When the owner's player asks for it / Then 502 PlaylistInvalid, and no URL is handed out
    answer = serve(api, f"/v1/files/{file_id}/hls/hls-720p.m3u8")
    assert answer["statusCode"] == 502
    assert f"the playlist references {reference!r}" in answer["body"]
    assert '"code":"PlaylistInvalid"' in answer["body"]
    assert "X-Amz-Signature" not in answer["body"]
