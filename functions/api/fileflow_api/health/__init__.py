"""Health: `GET /health`, which probes the table, the bucket and the queue the API depends on."""
