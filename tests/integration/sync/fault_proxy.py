"""A fault-injecting TCP proxy for the sync end-to-end tests: asyncio, loopback only, in a background thread.

Every connection carries ONE HTTP/1.1 request (the proxy adds ``Connection: close`` upstream, so the kiosk's
httpx client opens a new connection per request and each request meets its own fault). For each connection the
proxy draws a fault (or takes the next scripted one):

- ``pass``: forwarded both ways;
- ``refuse``: closed at once (a server that is down);
- ``cut_request``: part of the request is forwarded, then both sides are closed (nothing stored);
- ``cut_response``: the whole request is forwarded, the reply is cut after a few bytes (the server STORED it,
  the kiosk never saw the answer);
- ``stall``: the whole request is forwarded, the reply is held back past the kiosk's timeout (stored too);
- ``http500`` / ``http503``: a canned 500, or 503 with ``Retry-After``, without reaching the server.

Everything is bounded: each connection handler has a deadline, and :meth:`FaultProxy.stop` ends the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

FAULTS = ("pass", "refuse", "cut_request", "cut_response", "stall", "http500", "http503")


def _canned(status: str, code: str, extra: str = "") -> bytes:
    body = json.dumps({"error": {"code": code, "message": "injected by the test proxy", "field": None}}).encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


_CANNED = {
    "http500": _canned("500 Internal Server Error", "internal_error"),
    "http503": _canned("503 Service Unavailable", "database_unavailable", "retry-after: 1\r\n"),
}


@dataclass
class FaultPlan:
    """Probability of each fault (the rest passes), a seed, and an optional script consumed first."""

    weights: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    script: list[str] = field(default_factory=list)
    stall_seconds: float = 4.0


class FaultProxy:
    def __init__(self, upstream_port: int, plan: FaultPlan | None = None) -> None:
        self.upstream_port = upstream_port
        self.plan = plan or FaultPlan()
        self._rng = random.Random(self.plan.seed)
        self.counts: Counter[str] = Counter()
        self.port = 0
        self.enabled = True  # False: everything passes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(loop):
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    # ------------------------------------------------------------------ faults
    def _draw(self) -> str:
        if not self.enabled:
            return "pass"
        if self.plan.script:
            return self.plan.script.pop(0)
        roll = self._rng.random()
        for fault, weight in self.plan.weights.items():
            if roll < weight:
                return fault
            roll -= weight
        return "pass"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fault = self._draw()
        self.counts[fault] += 1
        try:
            await asyncio.wait_for(self._serve(fault, reader, writer), timeout=self.plan.stall_seconds + 60)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ConnectionError):
            pass  # the fault (or the peer) ended the connection: that is what this proxy is for
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await reader.readexactly(length) if length else b""
        return head + body

    @staticmethod
    def _close_upstream(head_and_body: bytes) -> bytes:
        line_end = head_and_body.index(b"\r\n") + 2
        return head_and_body[:line_end] + b"Connection: close\r\n" + head_and_body[line_end:]

    async def _serve(self, fault: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if fault == "refuse":
            return
        request = await self._read_request(reader)
        if fault in _CANNED:
            writer.write(_CANNED[fault])
            await writer.drain()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            request = self._close_upstream(request)
            if fault == "cut_request":
                up_writer.write(request[: max(1, len(request) * 2 // 3)])
                await up_writer.drain()
                return
            up_writer.write(request)
            await up_writer.drain()
            if fault == "cut_response":
                first = await up_reader.read(12)  # the server answered (so it stored): cut the reply there
                writer.write(first)
                await writer.drain()
                return
            if fault == "stall":
                response = await up_reader.read()
                await asyncio.sleep(self.plan.stall_seconds)  # past the kiosk's timeout
                writer.write(response)
                await writer.drain()
                return
            while True:
                chunk = await up_reader.read(65536)
                if not chunk:
                    break
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()
