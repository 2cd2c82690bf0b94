"""What every /v1/files/... route shares: its router's settings, the file id in its path, the service."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Security

from fileflow_api.auth.identity import BEARER_AUTH
from fileflow_api.dependencies import get_dependencies
from fileflow_api.files.service import FileService

FileId = Annotated[str, Path(max_length=256, description="the file id (file_id of the upload)")]


def files_router() -> APIRouter:
    """A router of /v1/files/... routes: tagged "files", bearer-authenticated."""
    return APIRouter(prefix="/v1/files", tags=["files"], dependencies=[Security(BEARER_AUTH)])


def get_file_service(request: Request) -> FileService:
    return get_dependencies(request).files


Files = Annotated[FileService, Depends(get_file_service)]
