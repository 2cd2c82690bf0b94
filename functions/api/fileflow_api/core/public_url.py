"""The API's public base URL, as the caller reached it (for links the API hands out)."""

from collections.abc import Mapping
from typing import Any


def api_base_url(event: Mapping[str, Any], *, local_endpoint: str | None = None) -> str:
    """Scheme, host and stage (or custom-domain base path), without a trailing slash.

    On the local cloud (`local_endpoint`: the AWS_ENDPOINT_URL LocalStack gives every function) the API
    is served under `/_aws/execute-api/{api id}/{stage}`, which the proxy event does not show.
    """
    context = event.get("requestContext") or {}
    if local_endpoint:
        return f"{local_endpoint.rstrip('/')}/_aws/execute-api/{context['apiId']}/{context['stage']}"
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    host = context.get("domainName") or headers.get("host", "")
    scheme = headers.get("x-forwarded-proto", "https")
    # requestContext.path is what the caller asked for ("/prod/v1/x", or "/base/v1/x" on a custom
    # domain); `path` is the route ("/v1/x"): what precedes it is the prefix.
    full_path, route_path = str(context.get("path") or ""), str(event.get("path") or "")
    if route_path and full_path.endswith(route_path):
        prefix = full_path[: len(full_path) - len(route_path)]
    else:
        prefix = f"/{context.get('stage', '')}"
    return f"{scheme}://{host}{prefix}".rstrip("/")
