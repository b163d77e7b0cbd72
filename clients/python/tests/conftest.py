"""A fake OAuth2 token endpoint (http.server in a thread) and a fake MLflow that records headers."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs

import pytest


class Recorded:
    def __init__(self, path: str, headers: Dict[str, str], form: Dict[str, str]) -> None:
        self.path = path
        self.headers = headers
        self.form = form


Responder = Callable[[Recorded], Tuple[int, Dict[str, Any]]]


class FakeServer:
    """Answers every request with ``responder(recorded)``; counts and records requests."""

    def __init__(self) -> None:
        self.requests: List[Recorded] = []
        self.issued = 0
        self.delay = 0.0
        self.responder: Responder = self.issue
        self.expires_in: Optional[int] = 600
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                rec = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, form)
                fake.requests.append(rec)
                if fake.delay:
                    time.sleep(fake.delay)
                status, body = fake.responder(rec)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def issue(self, rec: Recorded) -> Tuple[int, Dict[str, Any]]:
        self.issued += 1
        body: Dict[str, Any] = {"access_token": f"token-{self.issued}", "token_type": "Bearer"}
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        return 200, body

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def idp() -> Iterator[FakeServer]:
    server = FakeServer()
    yield server
    server.close()


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()
