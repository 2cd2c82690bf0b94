"""Webhooks shared by the API (endpoints), the producers (notify stage, sweeper) and the sender.

- `events`: the event types, the payload receivers get, and the message producers queue;
- `items`: the table layout of endpoints and deliveries;
- `targets`: the SSRF guard, applied at registration and again at every delivery.

docs/webhooks.md describes the whole feature.
"""
