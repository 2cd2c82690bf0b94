"""The Anthropic adapter: one Messages request through the `anthropic` SDK, its errors as CallFailures.

The only module that imports `anthropic`, and only when a client is first built (the import alone costs
most of a second of cold start, which files that never reach Claude should not pay). The SDK's own
retries are off: retry.py decides, with capped waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fileflow_stages.ai.cost import TokenUsage
from fileflow_stages.ai.retry import CallFailure, retry_after_seconds

if TYPE_CHECKING:
    import anthropic


@dataclass(frozen=True, slots=True)
class ClaudeRequest:
    model: str
    system: list[dict[str, Any]]
    tool: dict[str, Any]
    messages: list[dict[str, Any]]
    user_id: str
    max_tokens: int


@dataclass(frozen=True, slots=True)
class ClaudeReply:
    tool_use_id: str
    tool_input: Any
    usage: TokenUsage  # tokens of this one call (its cost is added by the caller, from the price table)
    model: str


_STATUS_REASONS = {408: "timeout", 429: "rate_limited", 529: "overloaded"}


def _reason(status: int) -> str:
    if status in _STATUS_REASONS:
        return _STATUS_REASONS[status]
    return "server_error" if status >= 500 else "client_error"


class AnthropicClaude:
    """One attempt per `create`; a failure raises CallFailure with the reason and the server's hint."""

    def __init__(self, *, api_key: str, base_url: str | None, timeout: float) -> None:
        import anthropic

        self._anthropic = anthropic
        self._client: anthropic.Anthropic = anthropic.Anthropic(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )

    def create(self, request: ClaudeRequest) -> ClaudeReply:
        errors = self._anthropic
        try:
            # Our requests are plain dicts (the schemas' JSON): the SDK's TypedDict overloads do not see them.
            create: Any = self._client.messages.create
            message = create(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,
                tools=[request.tool],
                tool_choice={"type": "tool", "name": request.tool["name"]},
                messages=request.messages,
                metadata={"user_id": request.user_id},
            )
        except errors.APITimeoutError as exc:
            raise CallFailure("timeout") from exc
        except errors.APIConnectionError as exc:
            raise CallFailure("connection") from exc
        except errors.APIStatusError as exc:
            status = exc.status_code
            raise CallFailure(
                _reason(status), status=status, retry_after=retry_after_seconds(dict(exc.response.headers))
            ) from exc
        for block in message.content:
            if block.type == "tool_use":
                usage = message.usage
                return ClaudeReply(
                    tool_use_id=block.id,
                    tool_input=block.input,
                    usage=TokenUsage(
                        input_tokens=usage.input_tokens,
                        output_tokens=usage.output_tokens,
                        cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
                        calls=1,
                    ),
                    model=message.model,
                )
        # No tool call (it should not happen with tool_choice forced): an answer that fails its schema.
        usage = message.usage
        return ClaudeReply(
            tool_use_id="",
            tool_input=None,
            usage=TokenUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, calls=1),
            model=message.model,
        )
