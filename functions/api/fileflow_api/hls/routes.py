"""GET /v1/files/{file_id}/hls/{playlist}: a video's HLS playlist, rewritten for a player. Thin."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Path, Request, Response, status

from fileflow_api.core.params import Caller
from fileflow_api.core.public_url import api_base_url
from fileflow_api.dependencies import ApiDependencies, get_dependencies
from fileflow_api.files.params import FileId, files_router
from fileflow_api.hls.service import HLS_CONTENT_TYPE, HlsService

router = files_router()


def get_hls_service(request: Request) -> HlsService:
    return get_dependencies(request).hls


Hls = Annotated[HlsService, Depends(get_hls_service)]
PlaylistName = Annotated[
    str, Path(max_length=128, description="a derivative of the file ending .m3u8 (hls-master.m3u8)")
]


def _base_url(request: Request, dependencies: ApiDependencies) -> str:
    """This API's public base URL (stage prefix included), as the caller reached it."""
    event = request.scope.get("aws.event")
    if event:
        return api_base_url(event, local_endpoint=dependencies.local_endpoint)
    return str(request.base_url).rstrip("/")  # served outside API Gateway (tests, a local server)


@router.get(
    "/{file_id}/hls/{playlist}",
    response_class=Response,
    responses={
        status.HTTP_200_OK: {
            "content": {HLS_CONTENT_TYPE: {"schema": {"type": "string"}}},
            "description": "the playlist: playlists as this route's URLs, segments as presigned GETs",
        },
        status.HTTP_404_NOT_FOUND: {"description": "not the caller's file, or no such playlist"},
        status.HTTP_502_BAD_GATEWAY: {"description": "the stored playlist references what it may not"},
    },
)
def hls_playlist(
    request: Request,
    file_id: FileId,
    playlist: PlaylistName,
    user: Caller,
    hls: Hls,
    dependencies: Annotated[ApiDependencies, Depends(get_dependencies)],
) -> Response:
    base = f"{_base_url(request, dependencies)}/v1/files/{quote(file_id, safe='')}/hls/"
    served = hls.playlist(user.user_id, file_id, playlist, route_url=lambda name: base + quote(name, safe=""))
    return Response(
        content=served.text,
        media_type=HLS_CONTENT_TYPE,
        headers={"Cache-Control": f"private, max-age={served.max_age}"},
    )
