"""What the browser tests share: the page's URL, a log of what the browser reported, calls to the API,
axe-core (injected into the page), and screenshots at desktop and phone sizes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import ConsoleMessage, Page, ViewportSize

from tools.stack import StackOutputs

TIMEOUT = 30
SCREENSHOTS = Path(os.environ.get("FILEFLOW_SCREENSHOT_DIR", "/tmp/fileflow-browser"))
DESKTOP = ViewportSize(width=1100, height=1000)
PHONE = ViewportSize(width=375, height=812)
# axe-core from the pinned npm package (package.json), evaluated in the page through the driver: the
# page's CSP (script-src 'self') rightly refuses an injected <script>, and the test must not loosen it.
AXE_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = frozenset({"serious", "critical"})


@dataclass
class PageLog:
    """What the browser reported: uncaught errors and console errors (CSP violations among them)."""

    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


def page_url(stack: StackOutputs) -> str:
    return f"{stack.api_url}/app/"


def text_file(size: int) -> bytes:
    """`size` bytes of plain text: lines of hex digits (no delimiter, so no CSV; processed as text)."""
    line_length = 64
    digits = os.urandom(size // 2 + line_length).hex()
    lines = [digits[i : i + line_length - 1] + "\n" for i in range(0, size, line_length)]
    return "".join(lines).encode()[:size]


class Api:
    """One user's calls to the deployed API, to check what the page did (and to set the scene)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(
            method, f"{self.base_url}{path}", headers=self.headers, timeout=TIMEOUT, **kwargs
        )

    def get(self, path: str) -> Any:
        response = self.call("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def completed_upload(self, upload_id: str) -> dict[str, Any] | None:
        upload: dict[str, Any] = self.get(f"/v1/uploads/{upload_id}")
        return upload if upload["status"] == "completed" else None

    def upload(
        self,
        data: bytes,
        *,
        filename: str,
        content_type: str,
        complete: bool = True,
        analysis: str | None = None,
    ) -> dict[str, Any]:
        """A single-PUT upload through /v1/uploads; completed unless told otherwise."""
        body: dict[str, Any] = {"filename": filename, "size": len(data), "content_type": content_type}
        if analysis is not None:
            body["analysis"] = analysis
        response = self.call("POST", "/v1/uploads", json=body)
        assert response.status_code == 201, response.text
        started: dict[str, Any] = response.json()
        if complete:
            self.send(started, data)
        return started

    def send(self, started: dict[str, Any], data: bytes) -> None:
        single = started["single"]
        put = requests.put(single["url"], data=data, headers=single["headers"], timeout=TIMEOUT)
        assert put.status_code == 200, put.text
        done = self.call("POST", f"/v1/uploads/{started['upload_id']}/complete")
        assert done.status_code == 200, done.text

    def processed(self, file_id: str) -> dict[str, Any] | None:
        body: dict[str, Any] = self.get(f"/v1/files/{file_id}")
        return body if body["status"] in {"processed", "failed", "rejected", "needs_review"} else None


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it is now (WCAG 2.x A and AA rules)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", tags
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
        if violation["impact"] in SERIOUS
    ]


def check_accessibility_and_shoot(page: Page, name: str) -> None:
    """No serious or critical axe violation at desktop size nor at phone size; a screenshot of each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or DESKTOP
    try:
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            violations = serious_violations(page)
            assert violations == [], f"{name} at {label} size: {violations}"
            # (nothing wider than the screen: no sideways scrolling on a phone)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} at {label} size is {overflow} px wider than the screen"
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    finally:
        page.set_viewport_size(size)
