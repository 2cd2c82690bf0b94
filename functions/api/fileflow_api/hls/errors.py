"""The HLS playlists' errors (docs/files-api.md, "HLS playlists"); PlaylistNotFound is a FileNotFound: 404."""

from collections.abc import Mapping

from fastapi import status

from fileflow_api.hls.service import PlaylistInvalidError
from fileflow_common.errors import FileflowError

ERROR_STATUS: Mapping[type[FileflowError], int] = {
    PlaylistInvalidError: status.HTTP_502_BAD_GATEWAY,
}
