"""The browser suite: the upload page of the deployed stack in Debian's headless Chromium (Playwright).

The stack fixtures are the e2e suite's (the local cloud, started if needed; the stack deployed or
updated first). Chromium is Debian's (`make chromium` installs it): never `playwright install`.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.browser.support import DESKTOP, PageLog
from tests.e2e.conftest import aws, claude_emulator, local_cloud, stack
from tools.stack import StackOutputs
from tools.token import TokenFactory

__all__ = [
    "aws",
    "browser",
    "chromium_path",
    "claude_emulator",
    "local_cloud",
    "page",
    "stack",
    "tokens",
    "user",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if path is None:
        pytest.fail("Debian's Chromium is not installed: run `make chromium` (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def tokens(stack: StackOutputs) -> TokenFactory:
    return TokenFactory.for_stack(stack)


@pytest.fixture
def user() -> str:
    return f"browser-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, PageLog]]:
    """A new page in a fresh context (its own storage), at desktop size, its errors logged."""
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    log = PageLog()
    opened.on("console", log.console)
    opened.on("pageerror", lambda error: log.errors.append(str(error)))
    yield opened, log
    context.close()
