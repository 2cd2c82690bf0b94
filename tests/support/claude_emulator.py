"""The Claude API emulator for the tests: `localstack-claude`'s WSGI app behind a thin layer of our own.

A real HTTP server in a thread (the code under test goes through the real `anthropic` SDK over real HTTP;
nothing is patched in-process). What the layer adds, keyed by the request's `metadata.user_id` (the AI
stage sends the Fileflow user id there) so tests in one run never take each other's faults:
- faults, queued per user and used one per request: an HTTP status (429 with `retry-after`, 529, 500)
  or a delay before the answer (past the client's timeout);
- a schema-valid tool input per user (and tool): the emulator's own is `{field: "<field>"}` strings;
- a record of every /v1 call with its headers (the SDK's `X-Stainless-Retry-Count` shows retries);
- image tokens estimated the way Anthropic counts them (width x height / 750): the emulator counts an
  image block as one token, which would make the cost figures meaningless.
The same controls are served over HTTP under `/_fileflow/` (for a process that did not start it).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from claude_local.server import create_router
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

type WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ERROR_TYPES = {
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class Fault:
    status: int | None = None  # an HTTP error to answer with
    retry_after: float | None = None  # seconds, sent as `retry-after`
    retry_after_ms: int | None = None  # sent as `retry-after-ms`
    delay: float = 0.0  # seconds before answering (then the normal answer, unless `status`)


@dataclass(frozen=True)
class Call:
    path: str
    user_id: str | None
    model: str | None
    tool: str | None
    headers: dict[str, str]
    status: int
    at: float
    body: dict[str, Any]


def _image_tokens(block: dict[str, Any]) -> int:
    from PIL import Image

    source = block.get("source") or {}
    if source.get("type") != "base64":
        return 0
    with Image.open(io.BytesIO(base64.b64decode(source["data"]))) as image:
        width, height = image.size
    return max(1, width * height // 750)


def _text_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def estimated_input_tokens(body: dict[str, Any]) -> int:
    """Text at about 4 characters a token, images at width x height / 750, system and tools included."""
    total = sum(
        _text_tokens(block.get("text", "")) for block in body.get("system") or [] if isinstance(block, dict)
    )
    if isinstance(body.get("system"), str):
        total += _text_tokens(body["system"])
    total += sum(_text_tokens(json.dumps(tool)) for tool in body.get("tools") or [])
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            total += _text_tokens(content)
            continue
        for block in content or []:
            if block.get("type") == "image":
                total += _image_tokens(block)
            else:
                total += _text_tokens(
                    json.dumps(block.get("text") or block.get("content") or block.get("input") or "")
                )
    return total


@dataclass
class ClaudeEmulator:
    """Start with `start()`; `base_url` is what the SDK (or the deployed stage) is given."""

    host: str = "127.0.0.1"
    port: int = 0
    _faults: dict[str, list[Fault]] = field(default_factory=dict)
    _tool_inputs: dict[tuple[str, str | None], list[dict[str, Any]]] = field(default_factory=dict)
    _calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    # --- lifecycle ---
    def start(self) -> ClaudeEmulator:
        self._app = create_router().wsgi()
        self._server = make_server(self.host, self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="claude-emulator"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- controls ---
    def queue_faults(self, user_id: str, *faults: Fault) -> None:
        with self._lock:
            self._faults.setdefault(user_id, []).extend(faults)

    def set_tool_input(self, user_id: str, tool_input: dict[str, Any], *, tool: str | None = None) -> None:
        """Every forced call of `user_id` (to `tool`, or to any tool) answers with this input."""
        with self._lock:
            self._tool_inputs[(user_id, tool)] = [tool_input]

    def queue_tool_inputs(self, user_id: str, *inputs: dict[str, Any], tool: str | None = None) -> None:
        """One input per call, in order; the last one stays for later calls."""
        with self._lock:
            self._tool_inputs[(user_id, tool)] = list(inputs)

    def calls(self, user_id: str | None = None) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if user_id is None or call.user_id == user_id]

    def reset(self, user_id: str | None = None) -> None:
        with self._lock:
            if user_id is None:
                self._faults.clear()
                self._tool_inputs.clear()
                self._calls.clear()
                return
            self._faults.pop(user_id, None)
            for key in [key for key in self._tool_inputs if key[0] == user_id]:
                del self._tool_inputs[key]
            self._calls = [call for call in self._calls if call.user_id != user_id]

    # --- the server ---
    def _next_fault(self, user_id: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(user_id or "")
            return queue.pop(0) if queue else None

    def _tool_input(self, user_id: str | None, tool: str) -> dict[str, Any] | None:
        with self._lock:
            for key in ((user_id or "", tool), (user_id or "", None)):
                inputs = self._tool_inputs.get(key)
                if inputs:
                    return inputs.pop(0) if len(inputs) > 1 else inputs[0]
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_fileflow/"):
            return self._control(request)(environ, start_response)
        if not request.path.startswith("/v1/"):
            passed: Iterable[bytes] = self._app(environ, start_response)
            return passed
        raw = request.get_data(cache=True)
        # The emulator's app reads the body again: give it back a stream of what was read.
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        body: dict[str, Any] = json.loads(raw or b"{}") if request.method == "POST" else {}
        user_id = (body.get("metadata") or {}).get("user_id")
        tool = (body.get("tool_choice") or {}).get("name")
        fault = self._next_fault(user_id) if request.path == "/v1/messages" else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            response = self._fault_response(fault)
        else:
            response = self._answer(environ, body, user_id, tool)
        with self._lock:
            self._calls.append(
                Call(
                    path=request.path,
                    user_id=user_id,
                    model=body.get("model"),
                    tool=tool,
                    headers=dict(request.headers),
                    status=response.status_code,
                    at=time.time(),
                    body=body,
                )
            )
        return response(environ, start_response)

    def _fault_response(self, fault: Fault) -> Response:
        status = fault.status or 500
        headers = {}
        if fault.retry_after is not None:
            headers["retry-after"] = str(fault.retry_after)
        if fault.retry_after_ms is not None:
            headers["retry-after-ms"] = str(fault.retry_after_ms)
        error = {"type": ERROR_TYPES.get(status, "api_error"), "message": f"injected {status}"}
        return Response(
            json.dumps({"type": "error", "error": error}),
            status=status,
            mimetype="application/json",
            headers=headers,
        )

    def _answer(
        self, environ: dict[str, Any], body: dict[str, Any], user_id: str | None, tool: str | None
    ) -> Response:
        """The emulator's own answer, with this user's tool input and realistic input tokens."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        chunks = b"".join(self._app(environ, capture))
        status = int(captured["status"].split()[0])
        if status != 200 or not chunks.startswith(b"{"):
            return Response(chunks, status=status, headers=captured["headers"])
        message = json.loads(chunks)
        for block in message.get("content") or []:
            if block.get("type") == "tool_use":
                tool_input = self._tool_input(user_id, str(block.get("name")))
                if tool_input is not None:
                    block["input"] = tool_input
                    message["usage"]["output_tokens"] = _text_tokens(json.dumps(tool_input))
        if "usage" in message:
            message["usage"]["input_tokens"] = estimated_input_tokens(body)
        return Response(json.dumps(message), status=200, mimetype="application/json")

    def _control(self, request: Request) -> Response:
        """`POST /_fileflow/faults {"user_id", "faults": [...]}`, `POST /_fileflow/tool-input {"user_id",
        "input", "tool"?}`, `GET /_fileflow/calls?user_id=`, `POST /_fileflow/reset {"user_id"?}`."""
        payload = request.get_json(force=True, silent=True) or {}
        if request.path == "/_fileflow/faults" and request.method == "POST":
            self.queue_faults(payload["user_id"], *(Fault(**fault) for fault in payload["faults"]))
        elif request.path == "/_fileflow/tool-input" and request.method == "POST":
            self.set_tool_input(payload["user_id"], payload["input"], tool=payload.get("tool"))
        elif request.path == "/_fileflow/calls" and request.method == "GET":
            calls = [
                {
                    "path": c.path,
                    "user_id": c.user_id,
                    "model": c.model,
                    "tool": c.tool,
                    "status": c.status,
                    "headers": c.headers,
                    "at": c.at,
                }
                for c in self.calls(request.args.get("user_id"))
            ]
            return Response(json.dumps(calls), mimetype="application/json")
        elif request.path == "/_fileflow/reset" and request.method == "POST":
            self.reset(payload.get("user_id"))
        else:
            return Response(json.dumps({"error": "no such control"}), status=404, mimetype="application/json")
        return Response(json.dumps({"ok": True}), mimetype="application/json")
