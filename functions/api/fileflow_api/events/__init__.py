"""A file's stage events: `GET /v1/files/{id}/events`, a long poll over the events the workflow writes."""
