"""The request handler: routing, auth, validation, faults and SSE writing for one dialect's server."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import socket
import struct
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from ._brain import BrainError, Reply, think
from ._dialects import (
    aimlapi_meta,
    aimlapi_sections,
    bench_text,
    completion_body,
    completion_id,
    error_body,
    html_page,
    models_body,
    problem_json,
    stream_events,
)
from ._embeddings import EMBEDDINGS_PATH, EmbeddingError, embeddings_reply
from ._faults import Fault
from ._models import Dialect, ReplicaModel, find_model

if TYPE_CHECKING:
    from ._server import ReplicaServer, _HTTPServer

CHAT_PATH = "/v1/chat/completions"
_SEQUENCE = itertools.count()
_DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid API key",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Not found",
    408: "Request timeout",
    409: "Conflict",
    422: "Unprocessable entity",
    429: "Rate limit exceeded, please retry later",
    500: "Internal server error",
    502: "Upstream provider error",
    503: "Service temporarily unavailable",
    504: "Generation timeout",
}
_ERROR_KINDS = {
    401: "authentication_error",
    402: "insufficient_quota",
    404: "not_found_error",
    429: "rate_limit_error",
}
_AUTH_MESSAGES: dict[Dialect, str] = {
    "apipie": "Unauthorized: missing or invalid API key. Send Authorization: Bearer <key> or x-api-key.",
    "aimlapi": "This request requires a valid API key. Send it in the Authorization header as a Bearer "
    "token.",
    "openai": "Unauthorized",
}


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the replica saw it."""

    seq: int
    dialect: Dialect
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes
    json: Any
    """The parsed JSON body, or None."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """Headers and body go out in separate small writes: with Nagle on, every non-streamed reply waited
    ~40 ms for the client's delayed ACK. Real gateways answer without that stall."""
    server: _HTTPServer
    server_version = "replica/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # ---- plumbing ----------------------------------------------------------------------------------
    @property
    def replica(self) -> ReplicaServer:
        return self.server.replica

    @property
    def dialect(self) -> Dialect:
        return self.server.replica.dialect

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.replica.stopping.wait(seconds)

    def _rst(self) -> None:
        """Abort the connection with a TCP RST: SO_LINGER 0, then close."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        fault: Fault | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**(extra or {}), **(fault.headers if fault else {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if fault and fault.delay_before_body:
            self._wait(fault.delay_before_body)
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(
        self,
        status: int,
        data: Any,
        fault: Fault | None = None,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._send(status, body, content_type, fault, extra)

    def _send_error(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        kind: str | None = None,
        fault: Fault | None = None,
    ) -> None:
        err_kind = kind or _ERROR_KINDS.get(
            status, "invalid_request_error" if status < 500 else "server_error"
        )
        path = urlsplit(self.path).path
        self._send_json(
            status, error_body(self.dialect, status, message, code=code, kind=err_kind, path=path), fault
        )

    # ---- dispatch ----------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        try:
            parsed: Any = json.loads(body) if body else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        record = RecordedRequest(
            seq=next(_SEQUENCE),
            dialect=self.dialect,
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=parsed,
        )
        counter = self.replica._record(record)
        fault = self.replica._take_fault(self.command, url.path)
        try:
            self._serve(record, fault, counter)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True

    def _serve(self, req: RecordedRequest, fault: Fault | None, counter: int) -> None:
        if fault is not None:
            self._wait(fault.delay_before_headers)
            if fault.reset_before_headers:
                self._rst()
                return
            if fault.status is not None:
                self._serve_fault_status(fault, req)
                return
        if req.method == "POST" and req.path == CHAT_PATH:
            self._chat(req, fault, counter)
        elif req.method == "POST" and req.path == EMBEDDINGS_PATH:
            self._embeddings(req, fault)
        elif req.method == "GET" and self._is_models_path(req.path):
            self._models(req, fault)
        else:
            self._send_error(404, f"Cannot {req.method} {req.path}", code="not_found", fault=fault)

    def _is_models_path(self, path: str) -> bool:
        if path == "/v1/models":
            return True
        if self.dialect == "apipie":
            return path == "/v1/models/detailed"
        if self.dialect == "aimlapi":
            return path == "/models" or path.startswith("/model/")
        return False

    def _serve_fault_status(self, fault: Fault, req: RecordedRequest) -> None:
        status = fault.status or 500
        message = fault.message or _DEFAULT_MESSAGES.get(status, "Error")
        if fault.body_kind == "account":
            self._send_json(
                status, {"code": "ACCOUNT_ERROR", "message": fault.message or "Insufficient balance"}, fault
            )
        elif fault.body_kind == "problem":
            self._send_json(
                status, problem_json(status, message, req.path), fault, "application/problem+json"
            )
        elif fault.body_kind == "html":
            self._send(status, html_page(status).encode(), "text/html; charset=utf-8", fault)
        elif fault.body_kind == "empty":
            self._send(status, b"", None, fault)
        elif fault.body_kind == "raw":
            raw = fault.body
            data = (
                raw if isinstance(raw, bytes) else (raw if isinstance(raw, str) else json.dumps(raw)).encode()
            )
            self._send(status, data, fault.content_type or "application/json", fault)
        else:
            self._send_error(status, message, code=_error_code(status), fault=fault)

    # ---- models ------------------------------------------------------------------------------------
    def _models(self, req: RecordedRequest, fault: Fault | None) -> None:
        data = models_body(self.dialect, req.path, req.query)
        if data is None:
            self._send_error(404, f"Model {req.path.rsplit('/', 1)[-1]} not found", code="model_not_found")
            return
        if self.dialect != "aimlapi":
            self._send_json(200, data, fault)
            return
        body = json.dumps(data, ensure_ascii=False).encode()
        sections = ",".join(sorted(aimlapi_sections(req.query)))
        etag = '"' + hashlib.sha1(body + sections.encode()).hexdigest()[:24] + '"'
        if req.headers.get("if-none-match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send(
            200, body, "application/json", fault, {"ETag": etag, "Cache-Control": "public, max-age=300"}
        )

    # ---- chat --------------------------------------------------------------------------------------
    def _authorised(self, req: RecordedRequest) -> bool:
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and auth[7:].strip():
            return True
        return self.dialect == "apipie" and bool(req.headers.get("x-api-key", "").strip())

    def _validation_error(self, req: RecordedRequest) -> str | None:
        body = req.json
        if not isinstance(body, dict):
            return (
                "Body validation error!"
                if self.dialect == "aimlapi"
                else "Request body must be a JSON object"
            )
        problems = []
        if not isinstance(body.get("model"), str) or not body.get("model"):
            problems.append("model is required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            problems.append("messages must be a non-empty array")
        if self.dialect == "aimlapi":
            for key in ("seed", "max_tokens"):
                value = body.get(key)
                if value is not None and (not isinstance(value, int) or value < 1):
                    problems.append(f"{key} must be an integer >= 1")
            if problems:
                return "Body validation error!"
        return "; ".join(problems) or None

    def _chat(self, req: RecordedRequest, fault: Fault | None, counter: int) -> None:
        if not self._authorised(req):
            self._send_error(401, _AUTH_MESSAGES[self.dialect], code="invalid_api_key", fault=fault)
            return
        problem = self._validation_error(req)
        if problem:
            self._send_error(400, problem, code="invalid_request", fault=fault)
            return
        request: dict[str, Any] = req.json
        quirks = self.replica.quirks
        if "drop_tools" in quirks:  # silently dropped, like AI/ML API drops fields it does not know
            request = {k: v for k, v in request.items() if k not in ("tools", "tool_choice")}
        if "drop_response_format" in quirks:
            request = {k: v for k, v in request.items() if k != "response_format"}
        stream = request.get("stream") is True
        if fault is not None and fault.error_in_200:
            self._error_in_200(fault, stream)
            return
        if fault is not None and fault.chunks is not None:
            self._custom(fault, stream)
            return
        model_ids = [m.strip() for m in str(request["model"]).split(",")]
        if self.dialect != "apipie" or stream:
            model_ids = model_ids[:1] if len(model_ids) == 1 or self.dialect != "apipie" else model_ids
        bodies: list[dict[str, Any]] = []
        for model_id in model_ids if self.dialect == "apipie" else [str(request["model"])]:
            model = find_model(self.dialect, model_id)
            if model is not None and "tool_text" in quirks:
                model = dataclasses.replace(model, tools="text")
            if model is None:
                self._send_error(
                    404, f"The model `{model_id}` does not exist.", code="model_not_found", fault=fault
                )
                return
            if model.deprecated:
                message = (
                    f"Model {model.id} is no longer supported: it was deprecated on {model.deprecated} "
                    "and you cannot call it. See the model list for current models."
                )
                self._send_error(404, message, code="model_deprecated", fault=fault)
                return
            try:
                reply = think(request, model, self.dialect)
            except BrainError as err:
                self._send_error(err.status, err.message, code=err.code, kind=err.kind, fault=fault)
                return
            if stream:
                self._stream(model, request, reply, fault)
                return
            body = completion_body(self.dialect, model, reply, request, counter, quirks)
            if self.replica.fixed_response_id is not None:  # a server that repeats its ids (issue 12)
                body["id"] = self.replica.fixed_response_id
            bodies.append(body)
        extra: dict[str, str] = {}
        if self.dialect == "aimlapi":  # live: cost and request id as headers on non-streamed JSON replies
            meta = aimlapi_meta(model, reply)["usage"]
            extra = {
                "x-aimlapi-usd-spent": f"{meta['usd_spent']}",
                "x-aimlapi-credits-used": f"{meta['credits_used']}",
                "x-inference-id": "inf-" + reply.digest[:24],
            }
        self._send_json(200, bodies if len(bodies) > 1 else bodies[0], fault, extra=extra)

    def _embeddings(self, req: RecordedRequest, fault: Fault | None) -> None:
        if not self._authorised(req):
            self._send_error(401, _AUTH_MESSAGES[self.dialect], code="invalid_api_key", fault=fault)
            return
        if fault is not None and fault.error_in_200:
            self._error_in_200(fault, stream=False)
            return
        if fault is not None and fault.chunks is not None:
            self._custom(fault, stream=False)
            return
        try:
            status, body, headers = embeddings_reply(self.dialect, req.json)
        except EmbeddingError as err:
            self._send_error(err.status, err.message, code=err.code, fault=fault)
            return
        self._send_json(status, body, fault, extra=headers)

    def _stream(
        self, model: ReplicaModel, request: dict[str, Any], reply: Reply, fault: Fault | None
    ) -> None:
        chunks, size = self._bench_shape_for_request()
        content_pieces = None
        if chunks is not None:
            content_pieces = bench_text(chunks, size)
            reply.content = "".join(content_pieces)
            reply.tool_calls = []
            reply.reasoning = ""
            reply.finish_reason = "stop"
            reply.completion_tokens = chunks
        quirks = self.replica.quirks
        events = stream_events(self.dialect, model, reply, request, content_pieces, quirks)
        fixed = self.replica.fixed_response_id
        if fixed is not None:  # a server that repeats its ids (issue 12): the same id on every reply
            rid = completion_id(self.dialect, reply).encode()
            events = [event.replace(rid, fixed.encode()) for event in events]
        self._write_events(events, fault)

    def _bench_shape_for_request(self) -> tuple[int | None, int | None]:
        header_chunks = self.headers.get("x-replica-chunks")
        header_size = self.headers.get("x-replica-chunk-size")
        chunks, size = self.replica._bench_shape()
        if header_chunks:
            chunks = int(header_chunks)
        if header_size:
            size = int(header_size)
        return chunks, size

    def _error_in_200(self, fault: Fault, stream: bool) -> None:
        error = {
            "error": {
                "message": fault.message,
                "code": 502,
                "type": "upstream_error",
                "metadata": {"provider_name": "replica-upstream"},
            }
        }
        if stream:
            self._write_events([f"data: {json.dumps(error)}\n\n".encode()], fault)
        else:
            self._send_json(200, error, fault)

    def _custom(self, fault: Fault, stream: bool) -> None:
        chunks = fault.chunks or []
        if not stream:
            first = chunks[0] if chunks else {}
            data = (
                first
                if isinstance(first, bytes)
                else (first if isinstance(first, str) else json.dumps(first)).encode()
            )
            self._send(200, data, "application/json", fault)
            return
        events: list[bytes] = []
        for item in chunks:
            if isinstance(item, bytes):
                events.append(item)
            elif isinstance(item, str):
                events.append(f"data: {item}\n\n".encode())
            else:
                events.append(f"data: {json.dumps(item, ensure_ascii=False)}\n\n".encode())
        self._write_events(events, fault)

    def _write_events(self, events: list[bytes], fault: Fault | None) -> None:
        """Send an SSE body, one write and flush per event; faults count `data:` events from 0."""
        close_delimited = fault is not None and fault.close_delimited
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if close_delimited:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Transfer-Encoding", "chunked")
        for name, value in (fault.headers if fault else {}).items():
            self.send_header(name, value)
        self.end_headers()
        if fault is not None:
            self._wait(fault.delay_before_body)
        index = 0
        for event in events:
            is_data = not event.startswith(b":")
            if fault is not None and is_data:
                if fault.truncate_after is not None and index >= fault.truncate_after:
                    break
                if fault.reset_after is not None and index >= fault.reset_after:
                    self._rst()
                    return
                if fault.malformed_at == index:
                    event = b'data: {"id":"broken","choices":[{"index":0,"delta":{"content":"unterminated\n\n'
            self._write_raw(event, close_delimited)
            stall = fault is not None and is_data and fault.stall_after is not None
            if stall and fault is not None and fault.stall_after is not None:
                due = index == fault.stall_after or (fault.stall_every and index > fault.stall_after)
                self._wait(fault.stall_seconds if due else 0.0)
            index += is_data
        if not close_delimited:
            self.wfile.write(b"0\r\n\r\n")

    def _write_raw(self, data: bytes, close_delimited: bool) -> None:
        if close_delimited:
            self.wfile.write(data)
        else:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


def _error_code(status: int) -> str | None:
    return {
        400: "invalid_request",
        401: "invalid_api_key",
        404: "not_found",
        429: "rate_limit_exceeded",
        500: "internal_error",
        502: "bad_gateway",
        503: "service_unavailable",
        504: "timeout",
    }.get(status)
