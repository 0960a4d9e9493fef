"""Web test fixtures: a real server per test module and Debian's Chromium driven headless.

The server and the browser are module-scoped (shared by the tests of a module); the SQLite
database is a copy of the session's migrated template (the one the `database_url` fixture
copies), so these tests run on SQLite only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from web_harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REQUIRE_BROWSER,
    SCREENSHOTS,
    Guard,
    LiveServer,
    WebPage,
    running_server,
)


@pytest.fixture(scope="module")
def demo_server(templates: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over a fresh SQLite database loaded with the demo bank."""
    with running_server(tmp_path_factory.mktemp("web"), templates["sqlite"].url, demo=True) as s:
        yield s


@pytest.fixture(scope="module")
def empty_server(templates: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over a fresh, migrated, empty SQLite database."""
    with running_server(tmp_path_factory.mktemp("web"), templates["sqlite"].url, demo=False) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def browser_context(browser: Any) -> Iterator[Any]:
    """One browser profile per module, so Plotly is fetched and compiled once; each test gets
    its own tab, and with it its own sign-in (the token lives in the tab's sessionStorage)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True, locale="en-US"
    )
    yield context
    context.close()


@pytest.fixture
def web(
    request: pytest.FixtureRequest, browser_context: Any, demo_server: LiveServer
) -> Iterator[WebPage]:
    page = browser_context.new_page()
    guard = Guard(demo_server.url)
    guard.watch(page)
    try:
        yield WebPage(page, guard, demo_server)
        if request.node.stash.get(CALL_FAILED, False):  # what the page looked like when it failed
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(SCREENSHOTS / f"FAILED-{request.node.name}.png"), full_page=True
            )
        guard.check()
    finally:
        page.close()
