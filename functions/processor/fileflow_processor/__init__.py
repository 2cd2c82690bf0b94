"""The processor function: records uploaded objects delivered by S3 notifications through SQS."""
