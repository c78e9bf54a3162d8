"""The HTTP face of the test Web Service (:mod:`tests.farm.fake_deadline`): the server, its handler, injected faults.

Kept apart from the repository so what goes over the wire (basic auth, status lines, content types, a connection
dropped mid-request) can be read, and changed, without reading how jobs and workers behave.

A real HTTP server on 127.0.0.1 (HTTPS when given a certificate) that answers 401 without the right basic-auth
credentials, as Deadline's Web Service does. Every request is recorded (:class:`Recorded`, with the status it got).
Tests inject failures with :meth:`FailureInjection.fail_next` (HTTP status), :meth:`FailureInjection.drop_next`
(the connection is closed with no answer) and :meth:`FailureInjection.answer_next` (any status, body and headers:
an HTML login page, ``{not json``, a redirect to an SSO page).
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from tests.farm.fake_deadline import FakeDeadline


@dataclass
class Injection:
    remaining: int
    status: int | None  # None: drop the connection
    method: str | None
    path: str | None
    skip: int = 0
    lost_answer: bool = False
    body: str | None = None  # answer this raw text instead of the injected error
    headers: dict[str, str] = field(default_factory=dict)
    acted: bool = False  # the service acts on the request before the answer is replaced

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None = None


class LocalServer:
    """Starting and stopping :class:`~tests.farm.fake_deadline.FakeDeadline`'s server; ``url`` is its base URL."""

    tls: tuple[str, str] | None
    _server: ThreadingHTTPServer | None
    _thread: threading.Thread | None

    def start(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{port}"


class FailureInjection:
    """The faults a test queues on :class:`~tests.farm.fake_deadline.FakeDeadline`, and its record of requests."""

    log: list[Recorded]
    _lock: threading.RLock
    _injections: list[Injection]

    def fail_next(
        self, count: int = 1, status: int = 500, method: str | None = None, path: str | None = None, after: int = 0
    ) -> None:
        """After ``after`` matching requests pass, the next ``count`` answer ``status`` without touching the state."""
        with self._lock:
            self._injections.append(Injection(count, status, method, path, after))

    def drop_next(
        self, count: int = 1, method: str | None = None, path: str | None = None, after_handling: bool = False
    ) -> None:
        """The next ``count`` matching requests get their connection closed with no answer; ``after_handling``:
        the service acts on the request first (a job is created) and the answer is lost on the way back."""
        with self._lock:
            self._injections.append(Injection(count, None, method, path, lost_answer=after_handling))

    def answer_next(
        self,
        body: str,
        *,
        status: int = 200,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        count: int = 1,
        acted: bool = False,
        after: int = 0,
    ) -> None:
        """After ``after`` matching requests pass, the next ``count`` get ``status`` with ``body`` as raw text (and
        ``headers``): a login page, a redirect, garbage. ``acted``: the service does the request first (a job is
        created) and the answer is replaced on the way back."""
        with self._lock:
            self._injections.append(
                Injection(count, status, method, path, after, body=body, headers=dict(headers or {}), acted=acted)
            )

    def _take_injection(self, method: str, path: str) -> Injection | None:
        with self._lock:
            for inj in self._injections:
                if inj.remaining > 0 and inj.matches(method, path):
                    if inj.skip > 0:
                        inj.skip -= 1
                        continue
                    inj.remaining -= 1
                    return inj
        return None

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.log if r.method == method and r.path == path]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDeadline
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; do not wait for delayed ACKs

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def _authorised(self) -> bool:
        if self.fake.user is None:
            return True
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.fake.user and password == self.fake.password

    def _serve(self) -> None:
        parsed = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._answer(400, "Bad Request: the body is not JSON", parsed.path, query, None)
                return
        record = Recorded(self.command, parsed.path, query, body)
        self.fake.log.append(record)
        injection = self.fake._take_injection(self.command, parsed.path)
        if injection is not None and injection.status is None:
            if injection.lost_answer and self._authorised():
                record.status = self.fake.handle(self.command, parsed.path, query, body)[0]
            self.close_connection = True
            self.connection.close()
            return
        if injection is not None and injection.body is not None:
            if injection.acted and self._authorised():
                self.fake.handle(self.command, parsed.path, query, body)
            record.status = injection.status
            self._send(injection.status or 200, injection.body, extra=injection.headers, raw=True)
            return
        if injection is not None:
            record.status = injection.status
            self._send(injection.status, "Internal Server Error: injected")
            return
        if not self._authorised():
            record.status = 401
            self._send(401, "Unauthorized", extra={"WWW-Authenticate": 'Basic realm="Deadline"'})
            return
        status, payload = self.fake.handle(self.command, parsed.path, query, body)
        record.status = status
        self._send(status, payload)

    def _answer(self, status: int, payload: Any, path: str, query: dict[str, str], body: Any) -> None:
        self.fake.log.append(Recorded(self.command, path, query, body, status))
        self._send(status, payload)

    def _send(self, status: int, payload: Any, extra: dict[str, str] | None = None, raw: bool = False) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response(status)
        if not raw or not any(k.lower() == "content-type" for k in extra or {}):
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve
