"""The HLS playlists' errors (docs/files-api.md, "HLS playlists"); PlaylistNotFound is a FileNotFound: 404."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_api.files.errors import UnknownFileError
from fileflow_common.errors import FileflowError


class UnknownPlaylistError(UnknownFileError):
    """The file has no such playlist (404, like a file that is not the caller's)."""

    code = "PlaylistNotFound"


class PlaylistInvalidError(FileflowError):
    """The stored playlist cannot be served safely (502: the fault is the pipeline's, not the caller's)."""

    code = "PlaylistInvalid"


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    PlaylistInvalidError: HTTPStatus.BAD_GATEWAY,
}
