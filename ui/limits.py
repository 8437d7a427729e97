"""Per-client limits for the web server: a sliding-window counter, and the ASGI middleware that
caps request bodies, throttles failed logins and adds security headers to every response."""
from __future__ import annotations

import collections
import json
import threading
import time

MAX_BODY = 1 << 20           # bytes of any request body (a long chat history is ~100 KB)
LOGIN_FAILURES = (5, 60.0)   # failed logins per client per window (seconds), then 429 until it passes
HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"),
           (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


class RateLimiter:
    """At most `events` per `seconds` per key; remembers at most `keys` clients (oldest dropped)."""

    def __init__(self, events: int, seconds: float, keys: int = 10_000):
        self.events, self.seconds, self.keys = events, seconds, keys
        self._hits: collections.OrderedDict[str, collections.deque] = collections.OrderedDict()
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> collections.deque:
        hits = self._hits.pop(key, None) or collections.deque()
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        self._hits[key] = hits
        while len(self._hits) > self.keys:
            self._hits.popitem(last=False)
        return hits

    def full(self, key: str) -> bool:
        with self._lock:
            return len(self._window(key, time.monotonic())) >= self.events

    def allow(self, key: str) -> bool:
        """Count one event for `key` unless its window is full."""
        with self._lock:
            now = time.monotonic()
            hits = self._window(key, now)
            if len(hits) >= self.events:
                return False
            hits.append(now)
            return True

    def add(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._window(key, now).append(now)


def client_key(scope_or_request) -> str:
    client = getattr(scope_or_request, "client", None)
    if client is None and isinstance(scope_or_request, dict):
        client = scope_or_request.get("client")
    return str(client[0] if client else "?")


class Guard:
    """ASGI middleware: security headers on every response, request bodies over MAX_BODY refused
    (413), and a client with too many failed logins refused (429) until its window passes."""

    def __init__(self, app, max_body: int = MAX_BODY, login_failures: tuple[int, float] = LOGIN_FAILURES,
                 housekeeping=None, every: int = 200):
        self.app, self.max_body = app, max_body
        self.failures = RateLimiter(*login_failures)
        self.housekeeping, self.every, self.count = housekeeping, every, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.count += 1
        if self.housekeeping is not None and self.count % self.every == 0:
            self.housekeeping()  # in the event loop, between requests: no handler sees it half done
        key, login = client_key(scope), scope["path"].rstrip("/").endswith("/login") and scope["method"] == "POST"
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > self.max_body:
            return await _refuse(send, 413, f"request body larger than {self.max_body} bytes")
        if login and self.failures.full(key):
            return await _refuse(send, 429, "too many failed logins; try again in a minute")
        received = 0

        async def capped_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise ValueError("request body too large")
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                if login and message["status"] >= 400:
                    self.failures.add(key)
                names = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in HEADERS if h[0] not in names)]}
            await send(message)

        await self.app(scope, capped_receive, send_with_headers)


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *HEADERS]})
    await send({"type": "http.response.body", "body": body})
