"""HLS playlists of a transcoded video, rewritten with presigned segment URLs (`/v1/files/{id}/hls/...`)."""
