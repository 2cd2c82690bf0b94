"""The one set of Powertools instances every function uses.

Service name, metrics namespace, log level and tracing switches come from the standard
POWERTOOLS_* environment variables, read by Powertools itself.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()
tracer = Tracer()

__all__ = ["logger", "metrics", "tracer"]
