"""The loopback HTTP servers: one `ReplicaServer` per dialect, grouped by `Replica`.

Standard library only (ThreadingHTTPServer, HTTP/1.1 keep-alive, chunked or close-delimited SSE, one flush
per event) so that the replica depends on nothing the client under test uses. A thread per connection and a
listen backlog of 1024 carry the ~500 concurrent streams of the load test.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from http.server import ThreadingHTTPServer
from typing import Any

from ._faults import Fault
from ._handler import CHAT_PATH, RecordedRequest, _Handler
from ._models import DIALECTS, Dialect


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, replica: ReplicaServer, host: str, port: int) -> None:
        self.replica = replica
        super().__init__((host, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that resets or drops a keep-alive connection is normal traffic, not a server error."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


QUIRKS = frozenset(
    {"no_meta", "usage_then_null", "no_done", "no_usage", "drop_tools", "drop_response_format", "tool_text"}
)


class ReplicaServer:
    """One dialect's server. Thread-safe: the request log and the fault queue are guarded by a lock."""

    def __init__(self, dialect: Dialect, host: str = "127.0.0.1", port: int = 0) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
        self.dialect: Dialect = dialect
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._counter = 0
        self._bench: tuple[int | None, int | None] = (None, None)
        self._quirks: frozenset[str] = frozenset()
        self.fixed_response_id: str | None = None
        """When set, every chat reply carries this id (some servers and caches repeat response ids)."""
        self.stopping = threading.Event()
        self._httpd = _HTTPServer(self, host, port)
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> ReplicaServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What a client takes as base_url: `http://127.0.0.1:PORT/v1`."""
        return f"{self.root_url}/v1"

    # ---- scripting ---------------------------------------------------------------------------------
    def enqueue(self, *faults: Fault) -> None:
        """Append faults; each is consumed by the next request to its path (chat completions by default)."""
        with self._lock:
            self._faults.extend(faults)

    def script(self, faults: list[Fault]) -> None:
        """Replace the queue with `faults`."""
        with self._lock:
            self._faults = deque(faults)

    def set_stream_shape(self, chunks: int | None = None, chunk_size: int | None = None) -> None:
        """Benchmarks: every streamed reply carries `chunks` content chunks (of `chunk_size` characters)
        until reset. Per request, headers `x-replica-chunks` / `x-replica-chunk-size` do the same."""
        with self._lock:
            self._bench = (chunks, chunk_size)

    def set_quirks(self, *quirks: str) -> None:
        """Switch on live behaviours (until `reset`), so a test can make an assumption fail. Known:
        `no_meta` (AI/ML API reply without `meta` / `system_fingerprint`, `reasoning_content: null`: a live
        Hermes 4 405B reply, 2025-09), `usage_then_null` (usage on the finish chunk, then a chunk with
        `"usage": null`), `no_done` (no `data: [DONE]`), `no_usage` (no usage anywhere), `drop_tools` and
        `drop_response_format` (the field is silently dropped: AI/ML API drops unknown fields),
        `tool_text` (tool calls come back as `<tool_call>` text in content)."""
        unknown = set(quirks) - QUIRKS
        if unknown:
            raise ValueError(f"unknown quirks {sorted(unknown)}; known: {sorted(QUIRKS)}")
        with self._lock:
            self._quirks = frozenset(quirks)

    @property
    def quirks(self) -> frozenset[str]:
        with self._lock:
            return self._quirks

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Forget the request log, pending faults, the stream shape and the request counter."""
        with self._lock:
            self._faults.clear()
            self._requests.clear()
            self._counter = 0
            self._bench = (None, None)
            self._quirks = frozenset()
            self.fixed_response_id = None

    # ---- used by the handler ---------------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self._requests.append(request)
            self._counter += 1
            return self._counter

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                wanted = fault.path or CHAT_PATH
                if wanted == path and (fault.path is not None or method == "POST"):
                    del self._faults[i]
                    return fault
        return None

    def _bench_shape(self) -> tuple[int | None, int | None]:
        with self._lock:
            return self._bench


class Replica:
    """The three dialect servers together; `replica["apipie"]` or `replica.apipie` is one of them."""

    def __init__(self, dialects: tuple[Dialect, ...] = DIALECTS) -> None:
        self.servers: dict[Dialect, ReplicaServer] = {d: ReplicaServer(d) for d in dialects}

    def start(self) -> Replica:
        for server in self.servers.values():
            server.start()
        return self

    def close(self) -> None:
        for server in self.servers.values():
            server.close()

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getitem__(self, dialect: str) -> ReplicaServer:
        return self.servers[dialect]  # type: ignore[index]

    @property
    def apipie(self) -> ReplicaServer:
        return self.servers["apipie"]

    @property
    def aimlapi(self) -> ReplicaServer:
        return self.servers["aimlapi"]

    @property
    def openai(self) -> ReplicaServer:
        return self.servers["openai"]

    def base_url(self, dialect: str) -> str:
        return self[dialect].base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every server's requests, in arrival order."""
        return sorted((r for s in self.servers.values() for r in s.requests), key=lambda r: r.seq)

    def reset(self) -> None:
        for server in self.servers.values():
            server.reset()

    def env(self) -> dict[str, str]:
        """Base-URL environment variables pointing clients at these servers."""
        names = {"apipie": "APIPIE_BASE_URL", "aimlapi": "AIMLAPI_BASE_URL", "openai": "OPENAI_BASE_URL"}
        return {names[d]: s.base_url for d, s in self.servers.items()}
