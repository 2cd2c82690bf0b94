"""Audit: every state-changing request recorded per user (`trail`, `table`), read at `GET /v1/audit`."""
