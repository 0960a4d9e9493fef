"""A webhook receiver on 127.0.0.1 (a real HTTP server in a thread): what `bench events`
delivers to, and what the events tests check deliveries with (also on another loopback address,
a fixed port, or over TLS)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Receiver:
    """Records every POST (body, signature header; its Host header and, over TLS, the name
    the client asked for) and answers `status` (changeable)."""

    url: str = ""
    status: int = 200
    received: list[tuple[bytes, str]] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        with self.lock:
            return [orjson.loads(body)["id"] for body, _ in self.received]

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    @classmethod
    @contextmanager
    def running(
        cls, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> Iterator[Receiver]:
        found = cls()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with found.lock:
                    found.received.append((body, self.headers.get("Ledgerbank-Signature", "")))
                    found.hosts.append(self.headers.get("Host", ""))
                self.send_response(found.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        scheme = "http"
        if tls is not None:

            def heard(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
                with found.lock:
                    found.server_names.append(name)

            tls.sni_callback = heard
            server.socket = tls.wrap_socket(server.socket, server_side=True)
            scheme = "https"
        found.url = f"{scheme}://{host}:{server.server_address[1]}/hook"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield found
        finally:
            server.shutdown()
            server.server_close()
