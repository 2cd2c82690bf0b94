"""LocalStack extension that lets Fileflow's stack run on a host without a Docker engine.

- ``executor``: a Lambda runtime executor that runs each execution environment as a local
  process of the interpreter matching the function's runtime (``LAMBDA_RUNTIME_EXECUTOR=host-process``).
- ``dynamodb``: a DynamoDB provider served by moto (``PROVIDER_OVERRIDE_DYNAMODB=moto``), because
  DynamoDB Local cannot be downloaded here.
"""
