"""Webhook endpoints and their delivery logs: `/v1/webhooks/...` (docs/webhooks.md).

The items and the SSRF guard are shared with the sender (fileflow_common.webhooks); this capability
registers, changes and deletes endpoints, rotates their secrets, reads their deliveries and queues a
redelivery. A file's deliveries are shown on GET /v1/files/{id}.
"""
