"""What the web tests drive: a real uvicorn server in a subprocess, and a browser page whose
`Guard` records every console error, failed request and unannounced error answer."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
from sqlalchemy.engine import make_url

from ledgerbank.demo.history import USERS

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("LEDGERBANK_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# In CI (.ci/run installs chromium) a missing browser is a failure, never a skip.
REQUIRE_BROWSER = os.environ.get("LEDGERBANK_TEST_REQUIRE_DATABASES") == "1"


@dataclass
class LiveServer:
    """A running `uvicorn ledgerbank.app:create_app` and how to reach it."""

    url: str
    database_url: str
    env: dict[str, str]
    log_path: Path
    used_steps: dict[str, int] = field(default_factory=dict)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def token(self, username: str, password: str) -> str:
        with self.client() as client:
            body = {"username": username, "password": password}
            if (code := self.totp(username)) is not None:
                body["totp"] = code
            answer = client.post("/auth/login", json=body)
            answer.raise_for_status()
            return str(answer.json()["access_token"])

    def enrolled_token(self, username: str, password: str) -> str:
        """A full token of a staff user who has no second factor yet: sign in (an enrol-only
        token), enrol one with pyotp as an authenticator app would, and take the token the
        enrolment answers."""
        with self.client() as client:
            signed_in = client.post(
                "/auth/login", json={"username": username, "password": password}
            )
            signed_in.raise_for_status()
            assert signed_in.json()["enrolment_required"] is True, signed_in.text
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            secret = client.post("/users/2fa/setup", headers=headers).json()["secret"]
            enabled = client.post(
                "/users/2fa/enable", headers=headers, json={"code": pyotp.TOTP(secret).now()}
            )
            enabled.raise_for_status()
            return str(enabled.json()["access_token"])

    def totp(self, username: str) -> str | None:
        """A fresh sign-in code of a demo staff user (None for customers). A code is accepted
        once: when this step's code was used, wait for the next step."""
        secret = next((u.totp_secret for u in USERS if u.username == username), None)
        if secret is None:
            return None
        step = int(time.time()) // 30
        if self.used_steps.get(username, -1) >= step:
            time.sleep(30 - time.time() % 30 + 0.2)
            step = int(time.time()) // 30
        self.used_steps[username] = step
        return str(pyotp.TOTP(secret).at(step * 30))

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_ledgerbank(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbank", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"ledgerbank {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@contextmanager
def running_server(folder: Path, template_url: str, *, demo: bool) -> Iterator[LiveServer]:
    """A server over a copy of the migrated template, with the demo bank loaded if asked."""
    database = folder / "ledgerbank.db"
    shutil.copyfile(make_url(template_url).database or "", database)
    env = {
        **os.environ,
        "LEDGERBANK_DATABASE_URL": f"sqlite:///{database}",
        "LEDGERBANK_DATA_DIR": str(folder),
        "LEDGERBANK_JWT_SECRET": secrets.token_urlsafe(32),
        "LEDGERBANK_ENVIRONMENT": "test",
        "LEDGERBANK_TOKEN_TTL_MINUTES": "60",
    }
    if demo:
        run_ledgerbank(env, "demo", "load")
    port = _free_port()
    log_path = folder / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "ledgerbank.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--timeout-graceful-shutdown",
                "2",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", env["LEDGERBANK_DATABASE_URL"], env, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server exited:\n{server.log_tail()}"
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the server did not start:\n{server.log_tail()}"
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@dataclass
class Guard:
    """Collects everything that went wrong in a page: console errors, uncaught exceptions,
    failed requests (not those the tab's own navigation to another document cancelled), 5xx
    answers, and 4xx answers the test did not announce."""

    base_url: str
    problems: list[str] = field(default_factory=list)
    expected: list[tuple[int, str]] = field(default_factory=list)
    seen_expected: list[tuple[int, str]] = field(default_factory=list)
    # How many documents the tab had begun loading when each request started.
    documents: int = 0
    started_at_document: dict[Any, int] = field(default_factory=dict)

    def watch(self, page: Any) -> None:
        """Listen to everything the page reports."""
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)
        page.on("request", self.on_request)
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)

    def _is_expected(self, status: int, url: str) -> bool:
        path = url.removeprefix(self.base_url)
        for wanted_status, wanted_path in self.expected:
            if status == wanted_status and re.search(wanted_path, path):
                self.seen_expected.append((wanted_status, wanted_path))
                return True
        return False

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        # Chromium logs every 4xx fetch as "Failed to load resource"; announced ones are fine.
        found = re.match(
            r"Failed to load resource: the server responded with a status of (\d+)", text
        )
        url = (message.location or {}).get("url", "")
        if found and self._is_expected(int(found.group(1)), url):
            return
        self.problems.append(f"console error: {text} ({url})")

    def on_page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_request(self, request: Any) -> None:
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self.documents += 1
        self.started_at_document[request] = self.documents

    def cancelled_by_navigation(self, request: Any) -> bool:
        """Whether the tab had begun loading another document (a reload, `page.goto`, a link)
        after this request started: Chromium aborts the old document's pending requests then,
        as it does a favicon still loading when a test reloads the page."""
        started = self.started_at_document.get(request)
        return started is not None and self.documents > started

    def on_request_failed(self, request: Any) -> None:
        failure = request.failure or ""
        # The live-updates stream is aborted on purpose when the user signs out or leaves.
        if request.url.endswith("/events/stream") and "ERR_ABORTED" in failure:
            return
        if failure == "net::ERR_ABORTED" and self.cancelled_by_navigation(request):
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {failure}")

    def on_response(self, response: Any) -> None:
        status = response.status
        if status >= 500 or (status >= 400 and not self._is_expected(status, response.url)):
            self.problems.append(f"HTTP {status}: {response.request.method} {response.url}")

    @contextmanager
    def expect(self, status: int, path_pattern: str) -> Iterator[None]:
        """Announce that the next steps answer `status` for a path matching `path_pattern`."""
        entry = (status, path_pattern)
        self.expected.append(entry)
        try:
            yield
        finally:
            self.expected.remove(entry)
        assert entry in self.seen_expected, f"expected a {status} from {path_pattern}"

    def allow(self, status: int, path_pattern: str) -> None:
        """Accept `status` from paths matching `path_pattern` for the rest of the test (an
        answer whose events may arrive after the step that caused it, like a sign-in's 401)."""
        self.expected.append((status, path_pattern))

    def check(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "the page had problems:\n" + "\n".join(problems)


@dataclass
class WebPage:
    """A page of the app with its guard, and helpers to move through the app as a user."""

    page: Any
    guard: Guard
    server: LiveServer

    def goto(self, route: str) -> None:
        self.page.goto(f"{self.server.url}/#{route}")
        self.ready(route.split("?")[0])

    def ready(self, route: str | None = None) -> None:
        selector = "main[data-ready=true]"
        self.page.wait_for_selector(selector, timeout=20_000)
        if route is not None:
            self.page.wait_for_function(
                "route => { const m = document.querySelector('main'); return m && m.dataset.ready"
                " === 'true' && location.hash.split('?')[0] === '#' + route; }",
                arg=route,
                timeout=20_000,
            )

    def sign_in(self, username: str, password: str) -> None:
        self.page.goto(f"{self.server.url}/")
        form = self.page.get_by_role("form", name="Sign in")
        form.get_by_label("Username").fill(username)
        form.get_by_label("Password").fill(password)
        if (code := self.server.totp(username)) is not None:
            # staff: the password is answered 401 second_factor_required, then the code
            self.guard.allow(401, r"^/auth/login$")
            form.get_by_role("button", name="Sign in").click()
            form.get_by_label("Sign-in code").wait_for(state="visible", timeout=20_000)
            form.get_by_label("Sign-in code").fill(code)
        form.get_by_role("button", name="Sign in").click()
        self.page.wait_for_selector("nav[aria-label=Main]", timeout=20_000)
        self.ready()

    def nav(self, name: str, route: str) -> None:
        """Open a view from the main menu, as a user would."""
        self.page.get_by_role("navigation", name="Main").get_by_role(
            "link", name=name, exact=True
        ).click()
        self.ready(route)

    def charts_drawn(self, count: int = 1) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('main .chart.js-plotly-plot').length >= n",
            arg=count,
            timeout=30_000,
        )

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.guard.check()
        return path
