"""`GatewayClient`: chat completions on APIpie, AI/ML API or any OpenAI-compatible server — a list of routes.

`GatewayClient("apipie")` and `GatewayClient(["apipie", "aimlapi"], api_key={"apipie": ..., "aimlapi": ...})`
are the same class: a single gateway is a list of one. The arguments are checked once, here, by `_config`
(gateway names, keys, base URLs, "openai needs a base_url", timeouts); each route gets its own I/O driver
(`_route.RouteClient`: its key, base URL, connection pools and retries).

Per request:
1. plan (no I/O): the model is looked up in the catalog once; each route prepares the request — its own
   model id, tool mode, JSON mode and guards (a guard error is raised at once: the request is wrong
   everywhere) — and resolves its key. A gateway without a key is skipped (debug log); so is a gateway the
   catalog says does not serve the model. No key anywhere is a `MissingAPIKeyError` naming every variable
   to set (with one route: that route's own message).
2. run, in order: each gateway's client does its own retries; when they are spent, `failover_reason`
   (pure) decides whether the next gateway gets the request:
   - yes after what the retry policy retries: connection errors, timeouts, replies cut off before the first
     delta (`StreamInterruptedError`), 408/409/429 and 5xx;
   - yes after a 400/404 for a model the catalog marks deprecated on that gateway (it is retired there);
   - no after anything caused by the request or the account (400, 401, 402, 403, 404, 422, a context-window
     error, a guard error), which another gateway would answer the same way;
   - never once a delta has reached the caller: a stream fails over only before its first delta.
3. the reply says who served it: `ChatResult.gateway`, `ChatDelta.gateway` on the final delta, and
   `stream.gateway` on the stream object (set when its first delta arrives).

With one route there is no one to fail over to: the route's own generator is handed out (no extra layer per
delta on the streaming hot path), and `stream.gateway` is known from the start.

Each failover is logged at WARNING (gateway, error class, message: never a key). When every gateway fails,
the last error is raised, with `attempts`: every gateway's error in order, the raised one last.

The sync and async drivers below are the same loop, line for line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._accumulator import StreamAccumulator
from ._catalog import OPENAI, ModelInfo, lookup
from ._config import KeyArg, Route, check_options, resolve_routes
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import (
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    MissingAPIKeyError,
    NotFoundError,
)
from ._observe import Call, awatch, start_call, watch
from ._retry import RetryPolicy, is_retryable
from ._route import RouteClient
from ._stream import AsyncChatStream, ChatStream, Served
from ._types import Usage

if TYPE_CHECKING:
    from types import TracebackType

    import httpx
    from pydantic import SecretStr

    from ._request import PreparedRequest
    from ._types import ChatDelta, ChatRequest, ChatResult, ToolMode

logger = logging.getLogger("hermes_gateway")

UsageHook = Callable[[Usage], None]
"""Called once per request with its usage (a broken hook is logged, never loses the reply)."""


# --- pure decisions ----------------------------------------------------------------------------------------


def failover_reason(error: GatewayError, info: ModelInfo | None, gateway: str) -> str | None:
    """Why the next gateway should get the request after `error` (retries spent), or None to raise it."""
    if isinstance(error, MissingAPIKeyError):
        return None
    if is_retryable(error):
        return "transient failure"
    if (
        isinstance(error, (BadRequestError, NotFoundError))
        and not isinstance(error, ContextWindowExceededError)
        and error.status_code in (400, 404)
        and info is not None
        and info.deprecation(gateway) is not None
    ):
        return f"{info.name} is deprecated on {gateway}"
    return None


def serves(info: ModelInfo | None, gateway: str) -> bool:
    """Whether a gateway may serve the model: unknown models and local servers always may."""
    return info is None or gateway == OPENAI or gateway in info.gateway_ids


@dataclass(frozen=True, slots=True)
class _Attempt:
    client: RouteClient
    prepared: PreparedRequest
    headers: dict[str, str] = field(repr=False)  # carries the key: never printed

    @property
    def gateway(self) -> str:
        return self.client.gateway


def _attach(error: GatewayError, errors: list[GatewayError]) -> None:
    """Every gateway's error, in order (`error` last), as `error.attempts` (empty with one route)."""
    error.attempts = list(errors) if len(errors) > 1 or error.attempts else []


def _servers(plan: list[_Attempt]) -> dict[str, str]:
    """Gateway → base URL, in the order the plan tries them (for the call's telemetry)."""
    return {attempt.gateway: attempt.client.base_url for attempt in plan}


def log_failover(gateway: str, following: str, reason: str, error: GatewayError) -> None:
    """The WARNING every failover logs (chat and embeddings alike): gateways, reason, error; never a key."""
    logger.warning(
        "failing over from %s to %s (%s): %s: %s",
        gateway,
        following,
        reason,
        type(error).__name__,
        error,
    )


def headers_or_skip(client: RouteClient, *, stream: bool, only: bool) -> dict[str, str] | None:
    """The route's request headers, or None when it has no key and another route may serve (debug log).
    `only`: the client has this one route, whose own MissingAPIKeyError is then raised."""
    try:
        return client._headers(stream=stream)
    except MissingAPIKeyError as exc:
        if only:
            raise
        logger.debug("skipping %s: %s", client.gateway, exc.message)
        return None


def no_key_anywhere(missing: Sequence[RouteClient]) -> MissingAPIKeyError:
    """The error for a call none of whose routes has a key: every variable to set, in one message."""
    parts = "; ".join(c.dialect.missing_key_message() for c in missing)
    return MissingAPIKeyError(
        f"no gateway has an API key ({parts}); with several gateways pass api_key={{gateway: key}}",
        gateway=",".join(c.gateway for c in missing),
    )


# --- the client --------------------------------------------------------------------------------------------


class GatewayClient:
    """Chat completions over one or more gateways, tried in order. See the module docstring."""

    def __init__(
        self,
        gateway: str | Sequence[str] = "apipie",
        *,
        api_key: KeyArg | Mapping[str, KeyArg] = None,
        base_url: str | Mapping[str, str | None] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        usage_hook: UsageHook | None = None,
        allow_insecure_http: bool = False,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`gateway`: a name, `"apipie,aimlapi"`, or a list. `api_key` / `base_url`: one value for one
        gateway, or a mapping per gateway name (missing names use that gateway's environment variables and
        default URL). The other arguments apply to every route: each retries `max_retries` times before
        the next one gets the request. `transport` / `async_transport` replace httpx's network layer
        (tests, proxies); they are dropped when the client is pickled.
        """
        if timeout is None:
            raise ValueError("timeout must be a positive number of seconds")
        check_options({"timeout": timeout, "max_retries": max_retries})
        headers = dict(default_headers or {})
        for name, value in headers.items():
            if not (f"{name}{value}".isascii() and f"{name}{value}".isprintable()):
                raise ValueError(
                    f"default_headers[{name!r}] holds control or non-ASCII characters, which HTTP headers "
                    "cannot carry"
                )
        routes = resolve_routes(
            gateway, api_key=api_key, base_url=base_url, allow_insecure_http=allow_insecure_http
        )
        self.allow_insecure_http = allow_insecure_http
        self.clients: tuple[RouteClient, ...] = tuple(
            RouteClient(
                route,
                timeout=timeout,
                max_retries=max_retries,
                default_headers=headers,
                usage_hook=usage_hook,
                transport=transport,
                async_transport=async_transport,
            )
            for route in routes
        )

    # -- what it is --------------------------------------------------------------------------------------

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(c.route for c in self.clients)

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateway names in the order they are tried."""
        return tuple(c.gateway for c in self.clients)

    @property
    def gateway(self) -> str:
        """The first gateway (the only one for a single-gateway client)."""
        return self.clients[0].gateway

    @property
    def base_url(self) -> str:
        """The first route's base URL."""
        return self.clients[0].base_url

    @property
    def api_key(self) -> SecretStr | None:
        """The key passed for the first route (a SecretStr), or None when it comes from the environment."""
        return self.clients[0].route.api_key

    @property
    def timeout(self) -> float:
        return self.clients[0].timeout

    @property
    def max_retries(self) -> int:
        return self.clients[0].max_retries

    @property
    def retry_policy(self) -> RetryPolicy:
        """The first route's retry policy; setting it sets every route's (tests shorten the backoff)."""
        return self.clients[0].retry_policy

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        for client in self.clients:
            client.retry_policy = policy

    @property
    def chat_url(self) -> str:
        return self.clients[0].chat_url

    def __repr__(self) -> str:
        routes = ", ".join(
            f"{c.gateway}={c.base_url!r}" + (" (key given)" if c.route.api_key is not None else "")
            for c in self.clients
        )
        return f"GatewayClient({routes})"

    # -- plan: no I/O --------------------------------------------------------------------------------------

    def _plan(self, request: ChatRequest, tool_mode: ToolMode, *, stream: bool) -> list[_Attempt]:
        model = request.get("model")
        info = lookup(model) if model else None  # the one catalog lookup of the request
        candidates = [c for c in self.clients if serves(info, c.gateway)] or list(self.clients)
        for client in self.clients:
            if client not in candidates:
                logger.debug("skipping %s: the catalog lists no id for %s there", client.gateway, model)
        plan: list[_Attempt] = []
        missing: list[RouteClient] = []
        for client in candidates:
            prepared = client._prepare(request, tool_mode, info, stream=stream)  # guards raise here
            headers = headers_or_skip(client, stream=stream, only=len(self.clients) == 1)
            if headers is None:
                missing.append(client)
            else:
                plan.append(_Attempt(client, prepared, headers))
        if plan:
            return plan
        raise no_key_anywhere(missing)

    # -- sync ----------------------------------------------------------------------------------------------

    def chat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """One non-streamed completion, through the same pipeline a stream uses."""
        served = Served()
        accumulator = StreamAccumulator()
        plan = self._plan(request, tool_mode, stream=False)
        call = start_call(request, "chat", _servers(plan), stream=False)
        accumulator.extend(watch(self._deltas(plan, served, call), call))
        accumulator.gateway = served.gateway
        return accumulator.result()

    def stream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatStream:
        """A streamed completion: `with client.stream(req) as s: for delta in s: ...` (fails over only
        before the first delta)."""
        served = Served()
        plan = self._plan(request, tool_mode, stream=True)
        call = start_call(request, "chat", _servers(plan), stream=True)
        return ChatStream(watch(self._deltas(plan, served, call), call), served)

    def _deltas(
        self, plan: list[_Attempt], served: Served, call: Call | None
    ) -> Generator[ChatDelta, None, None]:
        if len(plan) == 1:  # nothing to fail over to: the route's own generator, no layer per delta
            served.gateway = plan[0].gateway
            return plan[0].client._deltas(plan[0].prepared, plan[0].headers, call)
        return self._failover_deltas(plan, served, call)

    def _failover_deltas(
        self, plan: list[_Attempt], served: Served, call: Call | None
    ) -> Generator[ChatDelta, None, None]:
        errors: list[GatewayError] = []
        for number, attempt in enumerate(plan):
            try:
                with closing(attempt.client._deltas(attempt.prepared, attempt.headers, call)) as deltas:
                    for delta in deltas:
                        served.gateway = attempt.gateway
                        yield delta
                        yield from deltas  # the rest, delegated: no Python-level step per delta
                return
            except GatewayError as exc:
                errors.append(exc)
                reason = failover_reason(exc, attempt.prepared.info, attempt.gateway)
                if served.gateway is not None or reason is None or number + 1 == len(plan):
                    _attach(exc, errors)
                    raise
                log_failover(attempt.gateway, plan[number + 1].gateway, reason, exc)
                if call is not None:
                    call.hop(attempt.gateway, plan[number + 1].gateway, reason, exc)

    def close(self) -> None:
        """Close the sync pools (and forget async pools; use `aclose()` inside a loop to close its pools)."""
        for client in self.clients:
            client.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- async: the same loop, awaited ---------------------------------------------------------------------

    async def achat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """Async `chat`."""
        served = Served()
        accumulator = StreamAccumulator()
        plan = self._plan(request, tool_mode, stream=False)
        call = start_call(request, "chat", _servers(plan), stream=False)
        async for delta in awatch(self._adeltas(plan, served, call), call):
            accumulator.add(delta)
        accumulator.gateway = served.gateway
        return accumulator.result()

    def astream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> AsyncChatStream:
        """Async `stream`: `async with client.astream(req) as s: async for delta in s: ...`."""
        served = Served()
        plan = self._plan(request, tool_mode, stream=True)
        call = start_call(request, "chat", _servers(plan), stream=True)
        return AsyncChatStream(awatch(self._adeltas(plan, served, call), call), served)

    def _adeltas(
        self, plan: list[_Attempt], served: Served, call: Call | None
    ) -> AsyncGenerator[ChatDelta, None]:
        if len(plan) == 1:  # nothing to fail over to: the route's own generator, no layer per delta
            served.gateway = plan[0].gateway
            return plan[0].client._adeltas(plan[0].prepared, plan[0].headers, call)
        return self._failover_adeltas(plan, served, call)

    async def _failover_adeltas(
        self, plan: list[_Attempt], served: Served, call: Call | None
    ) -> AsyncGenerator[ChatDelta, None]:
        errors: list[GatewayError] = []
        for number, attempt in enumerate(plan):
            try:
                deltas = attempt.client._adeltas(attempt.prepared, attempt.headers, call)
                async with aclosing(deltas):
                    async for delta in deltas:
                        served.gateway = attempt.gateway
                        yield delta
                return
            except GatewayError as exc:
                errors.append(exc)
                reason = failover_reason(exc, attempt.prepared.info, attempt.gateway)
                if served.gateway is not None or reason is None or number + 1 == len(plan):
                    _attach(exc, errors)
                    raise
                log_failover(attempt.gateway, plan[number + 1].gateway, reason, exc)
                if call is not None:
                    call.hop(attempt.gateway, plan[number + 1].gateway, reason, exc)

    async def aclose(self) -> None:
        """Close the pools of the running loop (and the sync pools)."""
        for client in self.clients:
            await client.aclose()

    async def __aenter__(self) -> GatewayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
