"""The local cloud's HTTP server: parse each distinct Content-Type once.

Twisted's `Request.requestReceived` parses every request's Content-Type header with the standard
library's `email.message.EmailMessage` (its header registry and RFC 2822 tokeniser), only to learn
whether the body is a form. py-spy (`--gil`) during 100 concurrent uploads put 14.7% of the samples
holding LocalStack's GIL in that one call: each API request becomes several AWS calls, and the Lambda
runtime API's own requests, all parsed by the same process. The function is pure (bytes in, bytes out)
and a local cloud sees a handful of distinct values, so a bounded cache returns the same answer.
"""

from __future__ import annotations

from typing import Any

from localstack.runtime import hooks

from fileflow_localstack_host.memo import memoized


def cached_content_type(parse: Any) -> Any:
    """Twisted's `_parseContentType` with a cache of its answers (never wrapped twice)."""
    return memoized(parse, maxsize=1024)


@hooks.on_infra_start()
def cache_content_type_parsing() -> None:
    from twisted.web import http

    # `requestReceived` looks the name up in the module at each call.
    http._parseContentType = cached_content_type(http._parseContentType)
