"""`GatewayClient`: chat completions on APIpie, AI/ML API or any OpenAI-compatible server, sync and async.

Layout (after httpx `_client.py`): everything that does no I/O is shared — configuration, URL and header
building (`_headers`), request building (`_request.prepare_request`), the reply pipeline (`_stream`), error
bodies (`_error_bodies`) and the retry policy (`_retry`). The sync and async drivers below hold only the I/O
chain and are written line for line alike:

    chat / achat ─┐
                  ├─ _deltas / _adeltas        retry loop: sleeps per RetryPolicy, never after a yield
    stream/astream┘    └─ _attempt / _aattempt one HTTP exchange: send, status check, bytes → ReplyPipeline
                           └─ _send / _asend   POST; a non-2xx answer becomes its typed GatewayError

Connections: one pooled `httpx.Client` and one `httpx.AsyncClient` per event loop, made lazily. Keying the
async client by the running loop means `asyncio.run(...)` twice with one GatewayClient works (no "Event loop
is closed"): a new loop gets a new pool, and the old loop closes its pool as it shuts down
(`_close_with_loop`). The pools are dropped on pickling, so clients pickle into process
pools.

Security: the key is a `SecretStr`, resolved from the environment at each request when not given (frameworks
build models before keys exist), sent only as a header, never logged or put in an exception. httpx drops the
Authorization header on a redirect to another origin; `_redact.credential_guard` drops every other credential
header too (x-api-key, api-key), and a key a gateway echoes in an error body is redacted from the error.
Plain http is refused for non-loopback hosts.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from ._accumulator import StreamAccumulator
from ._constants import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    LOOPBACK_HOSTNAMES,
    MAX_CONNECTIONS,
    MAX_KEEPALIVE_CONNECTIONS,
    USER_AGENT,
)
from ._error_bodies import error_from_response, text_excerpt
from ._exceptions import GatewayError, InvalidResponseError, MissingAPIKeyError, map_httpx_errors
from ._gateways import Dialect, get_dialect
from ._observe import Call, awatch, start_call, watch
from ._redact import async_credential_guard, credential_guard, redact_error
from ._request import PreparedRequest, cost_fallback, error_hint, prepare_request
from ._retry import RetryPolicy
from ._stream import AsyncChatStream, ChatStream, ReplyPipeline
from ._types import ChatDelta, ChatRequest, ChatResult, ToolMode, Usage

if TYPE_CHECKING:
    from types import TracebackType

logger = logging.getLogger("hermes_gateway")

UsageHook = Callable[[Usage], None]
CLIENT_REQUEST_ID_HEADER = "X-Client-Request-Id"
_AsyncPool = tuple[httpx.AsyncClient, AsyncGenerator[None, None]]


async def _close_with_loop(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Closes `client` inside its own loop when that loop shuts down its async generators.

    `asyncio.run` (and asyncio.Runner) call `loop.shutdown_asyncgens()` before closing the loop, which
    `aclose()`s every async generator started in it. Starting this one next to each per-loop pool means
    the pool's connections are closed cleanly in their loop instead of leaking sockets (and ResourceWarnings)
    when the user's `asyncio.run(...)` ends.
    """
    try:
        yield
    finally:
        try:
            await client.aclose()
        except Exception:  # the loop is shutting down; nothing useful can be done with an error here
            logger.debug("closing an async pool at loop shutdown failed", exc_info=True)


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) and localhost."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_HOSTNAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The base URL without its trailing slash; ValueError for a non-http(s) URL, or plain http to a host that
    is not loopback without the explicit opt-in (adapters call it at construction, before any client)."""
    url = httpx.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise ValueError(
            f"refusing plain http:// to {url.host}: the API key would travel unencrypted. Use https:// "
            "(plain http is allowed to loopback hosts), or pass allow_insecure_http=True on a trusted network"
        )
    return base_url.rstrip("/")


def _content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def _is_json(response: httpx.Response) -> bool:
    return _content_type(response).endswith("json")


def _is_event_stream(response: httpx.Response) -> bool:
    return _content_type(response) == "text/event-stream"


class GatewayClient:
    """Chat completions against one gateway. Construction never needs a key; see the module docstring."""

    def __init__(
        self,
        gateway: str = "apipie",
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        usage_hook: UsageHook | None = None,
        allow_insecure_http: bool = False,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """See the module docstring and docs/architecture.md for the arguments.

        `transport` / `async_transport` replace httpx's network layer (tests use `httpx.MockTransport`; a
        proxy or custom TLS setup can pass `httpx.HTTPTransport(...)`). They are dropped when the client is
        pickled.
        """
        self.dialect: Dialect = get_dialect(gateway)
        self.gateway: str = self.dialect.name
        resolved = base_url or self.dialect.env_base_url() or self.dialect.default_base_url
        if not resolved:
            raise ValueError(
                f"gateway={gateway!r} needs base_url= (or {self.dialect.base_url_env}), "
                "e.g. 'http://localhost:11434/v1' for Ollama or 'http://localhost:8000/v1' for vLLM"
            )
        self.base_url: str = check_base_url(resolved, allow_insecure_http=allow_insecure_http)
        self.allow_insecure_http = allow_insecure_http
        if isinstance(api_key, str):
            api_key = SecretStr(api_key) if api_key else None
        self._api_key: SecretStr | None = api_key
        if timeout is None or timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        self.timeout: float = float(timeout)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries: int = max_retries
        self.retry_policy = RetryPolicy(max_retries=max_retries)
        self.default_headers: dict[str, str] = dict(default_headers or {})
        self.usage_hook: UsageHook | None = usage_hook
        self._transport = transport
        self._async_transport = async_transport
        self._init_pools()

    def _init_pools(self) -> None:
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _AsyncPool] = (
            weakref.WeakKeyDictionary()
        )

    # -- shared, no I/O --------------------------------------------------------------------------------------

    @property
    def api_key(self) -> SecretStr | None:
        """The key passed at construction (a SecretStr), or None when it comes from the environment."""
        return self._api_key

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def __repr__(self) -> str:
        key = "'**********'" if self._api_key is not None else "None"
        return f"GatewayClient(gateway={self.gateway!r}, base_url={self.base_url!r}, api_key={key})"

    def _secret(self) -> str | None:
        """The key in force: the one given, else the gateway's env var, read at each request."""
        return self._api_key.get_secret_value() if self._api_key is not None else self.dialect.env_api_key()

    def _headers(self, *, stream: bool) -> dict[str, str]:
        """Request headers; raises MissingAPIKeyError (naming the env var) when a required key is missing."""
        key = self._secret()
        headers = {
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": USER_AGENT,
            **self.default_headers,
        }
        # One correlation id per call (kept across its retries), reported back in metadata and errors; AI/ML
        # API documents the header, other gateways ignore it. A default_headers value wins.
        headers.setdefault(CLIENT_REQUEST_ID_HEADER, uuid.uuid4().hex)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif self.dialect.key_required:
            raise MissingAPIKeyError(self.dialect.missing_key_message(), gateway=self.gateway)
        return headers

    def _prepare(self, request: ChatRequest, tool_mode: ToolMode, *, stream: bool) -> PreparedRequest:
        prepared = prepare_request(request, dialect=self.dialect, tool_mode=tool_mode, stream=stream)
        logger.debug(
            "POST %s model=%s stream=%s tool_mode=%s",
            self.chat_url,
            prepared.model,
            stream,
            prepared.tool_mode,
        )
        return prepared

    def _pipeline(self, prepared: PreparedRequest) -> ReplyPipeline:
        return ReplyPipeline(
            gateway=self.gateway,
            model=prepared.model,
            parse_tool_calls=prepared.has_tools,
            tool_names=prepared.tool_names,
            starts_in_reasoning=prepared.starts_in_reasoning,
            fallback_cost=cost_fallback(prepared, self.gateway),
        )

    def _status_error(
        self, response: httpx.Response, content: bytes, prepared: PreparedRequest
    ) -> GatewayError:
        error = error_from_response(
            response.status_code,
            response.headers,
            content,
            gateway=self.gateway,
            hint=error_hint(
                prepared,
                self.gateway,
                status=response.status_code,
                content=content,
                base_url=self.base_url,
            ),
        )
        error.client_request_id = response.request.headers.get(CLIENT_REQUEST_ID_HEADER)
        return redact_error(error, self._secret())  # some gateways echo a rejected key in their message

    def _completion_json(self, content: bytes) -> Any:
        try:
            return json.loads(content)
        except ValueError as exc:
            text = content.decode("utf-8", errors="replace")
            excerpt = text_excerpt(text) or "(empty)"
            raise InvalidResponseError(
                f"{self.gateway} answered 200 with a body that is not JSON: {excerpt}",
                gateway=self.gateway,
                status_code=200,
                body=text,
            ) from exc

    def _finish(self, pipeline: ReplyPipeline, started: float) -> list[ChatDelta]:
        deltas = pipeline.finish(latency_ms=(time.perf_counter() - started) * 1000.0)
        if pipeline.usage is not None and self.usage_hook is not None:
            try:
                self.usage_hook(pipeline.usage)
            except Exception:  # a broken hook must not lose the reply
                logger.warning("usage_hook raised; the reply is unaffected", exc_info=True)
        return deltas

    def _new_limits(self) -> httpx.Limits:
        return httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", "_client", "_async_clients"):
            state.pop(name, None)
        state["_transport"] = state["_async_transport"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_pools()

    # -- sync I/O --------------------------------------------------------------------------------------------

    def _get_client(self) -> httpx.Client:
        client = self._client
        if client is None or client.is_closed:
            with self._lock:
                client = self._client
                if client is None or client.is_closed:
                    client = self._client = httpx.Client(
                        timeout=httpx.Timeout(self.timeout),
                        limits=self._new_limits(),
                        follow_redirects=True,
                        event_hooks={"request": [credential_guard(self.base_url)]},
                        transport=self._transport,
                    )
        return client

    def chat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """One non-streamed completion, through the same pipeline a stream uses."""
        prepared = self._prepare(request, tool_mode, stream=False)
        headers = self._headers(stream=False)
        call = start_call(request, "chat", {self.gateway: self.base_url}, stream=False)
        deltas = watch(self._deltas(prepared, headers, call), call)
        return StreamAccumulator(gateway=self.gateway).extend(deltas).result()

    def stream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatStream:
        """A streamed completion: `with client.stream(req) as s: for delta in s: ...`."""
        prepared = self._prepare(request, tool_mode, stream=True)
        headers = self._headers(stream=True)
        call = start_call(request, "chat", {self.gateway: self.base_url}, stream=True)
        return ChatStream(watch(self._deltas(prepared, headers, call), call))

    def _deltas(
        self, prepared: PreparedRequest, headers: dict[str, str], call: Call | None = None
    ) -> Generator[ChatDelta, None, None]:
        attempt = 0
        while True:
            yielded = False
            try:
                for delta in self._attempt(prepared, headers):
                    yielded = True
                    yield delta
                return
            except GatewayError as exc:
                delay = None if yielded else self.retry_policy.next_delay(attempt, exc)
                if delay is None:
                    raise
                if call is not None:
                    call.retry(self.gateway, attempt, exc, delay)
            time.sleep(delay)
            attempt += 1

    def _attempt(
        self, prepared: PreparedRequest, headers: dict[str, str]
    ) -> Generator[ChatDelta, None, None]:
        started = time.perf_counter()
        response = self._send(prepared, headers)
        try:
            pipeline = self._pipeline(prepared)
            # cost / request id sent as headers (AI/ML API), and the correlation id this call sent
            pipeline.read_headers(response.headers, response.request.headers.get(CLIENT_REQUEST_ID_HEADER))
            if _is_event_stream(response) or (prepared.stream and not _is_json(response)):
                with map_httpx_errors(self.gateway, reading_body=True):
                    for data in response.iter_bytes():
                        yield from pipeline.feed(data)
                        if pipeline.done:
                            break
            else:
                with map_httpx_errors(self.gateway, reading_body=True):
                    content = response.read()
                yield from pipeline.feed_completion(self._completion_json(content))
            yield from self._finish(pipeline, started)
        finally:
            response.close()

    def _send(self, prepared: PreparedRequest, headers: dict[str, str]) -> httpx.Response:
        client = self._get_client()
        request = client.build_request("POST", self.chat_url, json=prepared.body, headers=headers)
        with map_httpx_errors(self.gateway):
            response = client.send(request, stream=True)
        if response.is_success:
            return response
        try:
            with map_httpx_errors(self.gateway, reading_body=True):
                content = response.read()
        finally:
            response.close()
        raise self._status_error(response, content, prepared)

    def close(self) -> None:
        """Close the sync pool (and forget async pools; use `aclose()` inside a loop to close its pool)."""
        with self._lock:
            client, self._client = self._client, None
            self._async_clients = weakref.WeakKeyDictionary()
        if client is not None:
            client.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- async I/O: the same chain, awaited ------------------------------------------------------------------

    async def _get_async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._async_clients.get(loop)
            if pool is not None and not pool[0].is_closed:
                return pool[0]
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=self._new_limits(),
                follow_redirects=True,
                event_hooks={"request": [async_credential_guard(self.base_url)]},
                transport=self._async_transport,
            )
            guard = _close_with_loop(client)
            self._async_clients[loop] = (client, guard)
        await guard.asend(None)  # first iteration: the loop now knows the guard and will close it
        return client

    async def achat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """Async `chat`."""
        prepared = self._prepare(request, tool_mode, stream=False)
        headers = self._headers(stream=False)
        call = start_call(request, "chat", {self.gateway: self.base_url}, stream=False)
        accumulator = StreamAccumulator(gateway=self.gateway)
        async for delta in awatch(self._adeltas(prepared, headers, call), call):
            accumulator.add(delta)
        return accumulator.result()

    def astream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> AsyncChatStream:
        """Async `stream`: `async with client.astream(req) as s: async for delta in s: ...`."""
        prepared = self._prepare(request, tool_mode, stream=True)
        headers = self._headers(stream=True)
        call = start_call(request, "chat", {self.gateway: self.base_url}, stream=True)
        return AsyncChatStream(awatch(self._adeltas(prepared, headers, call), call))

    async def _adeltas(
        self, prepared: PreparedRequest, headers: dict[str, str], call: Call | None = None
    ) -> AsyncGenerator[ChatDelta, None]:
        attempt = 0
        while True:
            yielded = False
            try:
                async for delta in self._aattempt(prepared, headers):
                    yielded = True
                    yield delta
                return
            except GatewayError as exc:
                delay = None if yielded else self.retry_policy.next_delay(attempt, exc)
                if delay is None:
                    raise
                if call is not None:
                    call.retry(self.gateway, attempt, exc, delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def _aattempt(
        self, prepared: PreparedRequest, headers: dict[str, str]
    ) -> AsyncGenerator[ChatDelta, None]:
        started = time.perf_counter()
        response = await self._asend(prepared, headers)
        try:
            pipeline = self._pipeline(prepared)
            # cost / request id sent as headers (AI/ML API), and the correlation id this call sent
            pipeline.read_headers(response.headers, response.request.headers.get(CLIENT_REQUEST_ID_HEADER))
            if _is_event_stream(response) or (prepared.stream and not _is_json(response)):
                with map_httpx_errors(self.gateway, reading_body=True):
                    async for data in response.aiter_bytes():
                        for delta in pipeline.feed(data):
                            yield delta
                        if pipeline.done:
                            break
            else:
                with map_httpx_errors(self.gateway, reading_body=True):
                    content = await response.aread()
                for delta in pipeline.feed_completion(self._completion_json(content)):
                    yield delta
            for delta in self._finish(pipeline, started):
                yield delta
        finally:
            await response.aclose()

    async def _asend(self, prepared: PreparedRequest, headers: dict[str, str]) -> httpx.Response:
        client = await self._get_async_client()
        request = client.build_request("POST", self.chat_url, json=prepared.body, headers=headers)
        with map_httpx_errors(self.gateway):
            response = await client.send(request, stream=True)
        if response.is_success:
            return response
        try:
            with map_httpx_errors(self.gateway, reading_body=True):
                content = await response.aread()
        finally:
            await response.aclose()
        raise self._status_error(response, content, prepared)

    async def aclose(self) -> None:
        """Close the pool of the running loop (and the sync pool); pools of other loops are dropped."""
        loop = asyncio.get_running_loop()
        with self._lock:
            pool = self._async_clients.pop(loop, None)
            self._async_clients = weakref.WeakKeyDictionary()
            sync_client, self._client = self._client, None
        if pool is not None:
            await pool[1].aclose()  # runs the guard's finally: closes the pool
        if sync_client is not None:
            sync_client.close()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
