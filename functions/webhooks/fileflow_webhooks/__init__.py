"""The webhook sender: fans events out into deliveries and delivers each one, signed, with retries.

- `handler`: the SQS entry point (event and attempt messages) and the composition root;
- `fanout`, `attempt`: the domain (no boto3), against the ports of `ports`;
- `signing`, `transport`, `outcomes`, `schedule`: signatures, the SSRF-guarded HTTP client, what a
  response means and when to try again;
- `endpoints`, `deliveries`, `queue`: the DynamoDB and SQS adapters.
"""
