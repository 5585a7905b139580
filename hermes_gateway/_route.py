"""`RouteClient`: the I/O driver for ONE route (gateway, base URL, key) of a `GatewayClient`, sync and async.

Private: `GatewayClient` (`_client.py`) holds one per gateway and decides between them. Layout (after httpx
`_client.py`): everything that does no I/O is shared — configuration, URL and header
building (`_headers`), request building (`_request.prepare_request`), the reply pipeline (`_stream`), error
bodies (`_error_bodies`) and the retry policy (`_retry`). The sync and async drivers below hold only the I/O
chain and are written line for line alike:

    _deltas / _adeltas              retry loop: sleeps per RetryPolicy, never after a yield
      └─ _attempt / _aattempt       one HTTP exchange: send, status check, bytes → ReplyPipeline
           └─ _send / _asend        POST; a non-2xx answer becomes its typed GatewayError

Connections: one pooled `httpx.Client` and one `httpx.AsyncClient` per event loop, made lazily. Keying the
async client by the running loop means `asyncio.run(...)` twice with one GatewayClient works (no "Event loop
is closed"): a new loop gets a new pool, and the old loop closes its pool as it shuts down
(`_close_with_loop`). The pools are dropped on pickling, so clients pickle into process
pools.

Security: the key is a `SecretStr`, resolved from the environment at each request when not given (frameworks
build models before keys exist; `_config.env_key` strips and checks it), sent only as a header, never logged
or put in an exception: transport errors are redacted by `map_httpx_errors(secret=...)`. httpx drops the
Authorization header on a redirect to another origin; `_redact.credential_guard` drops every other credential
header too (x-api-key, api-key), and a key a gateway echoes in an error body is redacted from the error.
Plain http is refused for non-loopback hosts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from ._config import Route, env_key
from ._constants import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_KEEPALIVE_CONNECTIONS,
    USER_AGENT,
)
from ._error_bodies import error_from_response, text_excerpt
from ._exceptions import GatewayError, InvalidResponseError, MissingAPIKeyError, map_httpx_errors
from ._redact import async_credential_guard, credential_guard, redact_error
from ._request import PreparedRequest, cost_fallback, error_hint, prepare_request
from ._retry import RetryPolicy
from ._stream import ReplyPipeline
from ._types import ChatDelta, ChatRequest, ToolMode, Usage

if TYPE_CHECKING:
    from types import TracebackType

    from pydantic import SecretStr

    from ._model_info import ModelInfo
    from ._observe import Call

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


def _content_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def _is_json(response: httpx.Response) -> bool:
    return _content_type(response).endswith("json")


def _is_event_stream(response: httpx.Response) -> bool:
    return _content_type(response) == "text/event-stream"


class RouteClient:
    """Chat completions against one route. Construction never needs a key; see the module docstring."""

    def __init__(
        self,
        route: Route,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        usage_hook: UsageHook | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Arguments are checked by `GatewayClient`; `transport`s are dropped when the client is pickled."""
        self.route = route
        self.dialect = route.dialect
        self.gateway: str = route.gateway
        self.base_url: str = route.base_url
        self._api_key: SecretStr | None = route.api_key
        self.timeout: float = float(timeout)
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
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def __repr__(self) -> str:
        key = "'**********'" if self._api_key is not None else "None"
        return f"RouteClient(gateway={self.gateway!r}, base_url={self.base_url!r}, api_key={key})"

    def _secret(self) -> str | None:
        """The key in force: the one given, else the gateway's env var, read at each request."""
        key = self._api_key if self._api_key is not None else env_key(self.dialect)
        return key.get_secret_value() if key is not None else None

    def _secret_or_none(self) -> str | None:
        """The key for redaction; never raises (a key that cannot be read cannot leak either)."""
        try:
            return self._secret()
        except GatewayError:
            return None

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

    def _prepare(
        self, request: ChatRequest, tool_mode: ToolMode, info: ModelInfo | None, *, stream: bool
    ) -> PreparedRequest:
        prepared = prepare_request(
            request, dialect=self.dialect, info=info, tool_mode=tool_mode, stream=stream
        )
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
                with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
                    for data in response.iter_bytes():
                        yield from pipeline.feed(data)
                        if pipeline.done:
                            break
            else:
                with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
                    content = response.read()
                yield from pipeline.feed_completion(self._completion_json(content))
            yield from self._finish(pipeline, started)
        finally:
            response.close()

    def _send(self, prepared: PreparedRequest, headers: dict[str, str]) -> httpx.Response:
        client = self._get_client()
        request = client.build_request("POST", self.chat_url, json=prepared.body, headers=headers)
        with map_httpx_errors(self.gateway, secret=self._secret_or_none()):
            response = client.send(request, stream=True)
        if response.is_success:
            return response
        try:
            with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
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

    def __enter__(self) -> RouteClient:
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
                with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
                    async for data in response.aiter_bytes():
                        for delta in pipeline.feed(data):
                            yield delta
                        if pipeline.done:
                            break
            else:
                with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
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
        with map_httpx_errors(self.gateway, secret=self._secret_or_none()):
            response = await client.send(request, stream=True)
        if response.is_success:
            return response
        try:
            with map_httpx_errors(self.gateway, reading_body=True, secret=self._secret_or_none()):
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

    async def __aenter__(self) -> RouteClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
