"""The browser tests' Guard itself: a request the tab's own navigation cancelled is not a
failure (CI once failed on a favicon a reload aborted), and every other failed request still is."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web_harness import Guard

pytestmark = pytest.mark.browser

NO_ICON = b'<!doctype html><link rel="icon" href="data:,">'
PAGES = {
    "/": NO_ICON + b'<title>first</title><img src="/slow.svg" alt="">',
    "/next": NO_ICON + b"<title>next</title><p>next page</p>",
    # The page's own script gives up on a request: that is a failure the guard must report.
    "/gives-up": NO_ICON
    + b"""<title>gives up</title><script>
        const stop = new AbortController();
        fetch("/slow.svg?fetch", { signal: stop.signal }).catch(() => {});
        setTimeout(() => stop.abort(), 50);
    </script>""",
}


class SlowSite(ThreadingHTTPServer):
    """Serves PAGES; /slow.svg answers only once `release` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow_requested = threading.Event()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: SlowSite

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/slow.svg":
            self.server.slow_requested.set()
            self.server.release.wait(timeout=30)
            body, kind = b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"
        elif path in PAGES:
            body, kind = PAGES[path], "text/html"
        else:
            self.send_error(404)
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the browser gave up on the request

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def site() -> Iterator[SlowSite]:
    server = SlowSite()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def watched(browser: Any, site: SlowSite) -> Iterator[tuple[Any, Guard]]:
    context = browser.new_context()
    page = context.new_page()
    guard = Guard(site.url)
    guard.watch(page)
    try:
        yield page, guard
    finally:
        context.close()


def test_a_request_the_next_navigation_cancels_is_not_a_failure(
    watched: tuple[Any, Guard], site: SlowSite
) -> None:
    page, guard = watched
    page.goto(f"{site.url}/", wait_until="domcontentloaded")
    assert site.slow_requested.wait(timeout=10)
    with page.expect_event("requestfailed") as failed:
        page.goto(f"{site.url}/next")
    assert failed.value.url.endswith("/slow.svg")
    assert failed.value.failure == "net::ERR_ABORTED"
    guard.check()


def test_a_request_the_page_aborts_itself_is_still_a_failure(
    watched: tuple[Any, Guard], site: SlowSite
) -> None:
    page, guard = watched
    with page.expect_event("requestfailed") as failed:
        page.goto(f"{site.url}/gives-up")
    assert failed.value.failure == "net::ERR_ABORTED"
    page.goto(f"{site.url}/next")  # a later navigation does not excuse an earlier failure
    with pytest.raises(AssertionError, match=r"request failed: GET .*/slow\.svg\?fetch"):
        guard.check()


def test_a_refused_connection_is_a_failure_even_across_a_navigation(
    watched: tuple[Any, Guard], site: SlowSite
) -> None:
    page, guard = watched
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    page.goto(f"{site.url}/next")
    with page.expect_event("requestfailed"):
        page.evaluate(f"fetch('http://127.0.0.1:{closed_port}/gone').catch(() => {{}})")
    page.goto(f"{site.url}/next")
    with pytest.raises(
        AssertionError, match=r"request failed: GET .*/gone: net::ERR_CONNECTION_REFUSED"
    ):
        guard.check()
