"""Failover across gateways: `FailoverClient`, and `create_client`, the one constructor both adapters call.

`create_client(["apipie", "aimlapi"], api_key={"apipie": ..., "aimlapi": ...})` builds one `GatewayClient`
per gateway (its own key, base URL and retries) and wraps them in a `FailoverClient`, which has exactly the
`GatewayClient` interface. A single gateway gives a plain `GatewayClient`.

Per request:
1. plan (no I/O): each gateway's client prepares the request — its own model id, tool mode and guards (a
   guard error is raised at once: the request is wrong everywhere) — and resolves its key. A gateway without
   a key is skipped (debug log); so is a gateway the catalog says does not serve the model. No key anywhere
   is a `MissingAPIKeyError` naming every variable to set.
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

Each failover is logged at WARNING (gateway, error class, message: never a key). When every gateway fails,
the last error is raised, with `attempts`: every gateway's error in order, the raised one last.

The sync and async drivers below are the same loop, line for line.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ._accumulator import StreamAccumulator
from ._catalog import OPENAI, ModelInfo, lookup
from ._client import GatewayClient, UsageHook
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import (
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    MissingAPIKeyError,
    NotFoundError,
)
from ._observe import Call, awatch, start_call, watch
from ._retry import is_retryable
from ._stream import AsyncChatStream, ChatStream

if TYPE_CHECKING:
    from types import TracebackType

    import httpx

    from ._request import PreparedRequest
    from ._types import ChatDelta, ChatRequest, ChatResult, ToolMode

logger = logging.getLogger("hermes_gateway")

KeyArg = str | SecretStr | None


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


def split_gateways(gateway: str | Sequence[str]) -> list[str]:
    """`"apipie"`, `"apipie,aimlapi"` or `["apipie", "aimlapi"]` → the list of names, checked."""
    names = [g.strip() for g in gateway.split(",")] if isinstance(gateway, str) else [str(g) for g in gateway]
    names = [g for g in names if g]
    if not names:
        raise ValueError("gateway must name at least one gateway, e.g. 'apipie' or ['apipie', 'aimlapi']")
    if len(set(names)) != len(names):
        raise ValueError(f"gateway lists a gateway twice: {names}")
    return names


def per_gateway(value: Any, names: Sequence[str], what: str) -> dict[str, Any]:
    """Spread `api_key` / `base_url` over the gateways: a mapping per gateway, or one value for one gateway.

    One key for several gateways is refused: it would send one gateway's key to the others.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{what} names gateways that are not in the list {names}: {unknown}")
        return {name: value[name] for name in names if value.get(name) is not None}
    if len(names) == 1:
        return {names[0]: value}
    raise ValueError(
        f"with several gateways, pass {what} as a mapping per gateway, e.g. {what}={{'apipie': ..., "
        f"'aimlapi': ...}} (or leave it None to use each gateway's environment variable)"
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    client: GatewayClient
    prepared: PreparedRequest
    headers: dict[str, str] = field(repr=False)  # carries the key: never printed

    @property
    def gateway(self) -> str:
        return self.client.gateway


@dataclass(slots=True)
class _Served:
    gateway: str | None = None


def _servers(plan: list[_Attempt]) -> dict[str, str]:
    """Gateway → base URL, in the order the plan tries them (for the call's telemetry)."""
    return {attempt.gateway: attempt.client.base_url for attempt in plan}


def _attach(error: GatewayError, errors: list[GatewayError]) -> None:
    """Every gateway's error, in order (`error` last), as `error.attempts`."""
    error.attempts = list(errors)


def _log_failover(attempt: _Attempt, following: _Attempt, reason: str, error: GatewayError) -> None:
    logger.warning(
        "failing over from %s to %s (%s): %s: %s",
        attempt.gateway,
        following.gateway,
        reason,
        type(error).__name__,
        error,
    )


# --- the client --------------------------------------------------------------------------------------------


class FailoverChatStream(ChatStream):
    """A `ChatStream` that also says which gateway serves it (`gateway`, set at the first delta)."""

    def __init__(self, deltas: Generator[ChatDelta, None, None], served: _Served) -> None:
        super().__init__(deltas)
        self._served = served

    @property
    def gateway(self) -> str | None:
        return self._served.gateway

    def __enter__(self) -> FailoverChatStream:
        return self


class AsyncFailoverChatStream(AsyncChatStream):
    """The async twin of `FailoverChatStream`."""

    def __init__(self, deltas: AsyncGenerator[ChatDelta, None], served: _Served) -> None:
        super().__init__(deltas)
        self._served = served

    @property
    def gateway(self) -> str | None:
        return self._served.gateway

    async def __aenter__(self) -> AsyncFailoverChatStream:
        return self


class FailoverClient:
    """Several `GatewayClient`s tried in order; the `GatewayClient` interface. See the module docstring."""

    def __init__(self, clients: Sequence[GatewayClient]) -> None:
        """`clients`: in order of preference, one per gateway (`create_client` builds them from names)."""
        if not clients:
            raise ValueError("FailoverClient needs at least one GatewayClient")
        self.clients: tuple[GatewayClient, ...] = tuple(clients)

    @property
    def gateways(self) -> tuple[str, ...]:
        return tuple(c.gateway for c in self.clients)

    def __repr__(self) -> str:
        return f"FailoverClient({list(self.clients)!r})"

    # -- plan: no I/O --------------------------------------------------------------------------------------

    def _plan(self, request: ChatRequest, tool_mode: ToolMode, *, stream: bool) -> list[_Attempt]:
        model = request.get("model")
        info = lookup(model) if model else None
        candidates = [c for c in self.clients if serves(info, c.gateway)] or list(self.clients)
        for client in self.clients:
            if client not in candidates:
                logger.debug("skipping %s: the catalog lists no id for %s there", client.gateway, model)
        plan: list[_Attempt] = []
        missing: list[GatewayClient] = []
        for client in candidates:
            prepared = client._prepare(request, tool_mode, stream=stream)  # guards raise here, before I/O
            try:
                headers = client._headers(stream=stream)
            except MissingAPIKeyError:
                logger.debug("skipping %s: %s", client.gateway, client.dialect.missing_key_message())
                missing.append(client)
                continue
            plan.append(_Attempt(client, prepared, headers))
        if plan:
            return plan
        parts = "; ".join(c.dialect.missing_key_message() for c in missing)
        raise MissingAPIKeyError(
            f"no gateway has an API key ({parts}); with several gateways pass api_key={{gateway: key}}",
            gateway=",".join(c.gateway for c in missing),
        )

    # -- sync ----------------------------------------------------------------------------------------------

    def chat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """`GatewayClient.chat` on the first gateway that answers."""
        served = _Served()
        accumulator = StreamAccumulator()
        plan = self._plan(request, tool_mode, stream=False)
        call = start_call(request, "chat", _servers(plan), stream=False)
        accumulator.extend(watch(self._deltas(plan, served, call), call))
        accumulator.gateway = served.gateway
        return accumulator.result()

    def stream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> FailoverChatStream:
        """`GatewayClient.stream`, failing over until the first delta."""
        served = _Served()
        plan = self._plan(request, tool_mode, stream=True)
        call = start_call(request, "chat", _servers(plan), stream=True)
        return FailoverChatStream(watch(self._deltas(plan, served, call), call), served)

    def _deltas(
        self, plan: list[_Attempt], served: _Served, call: Call | None = None
    ) -> Generator[ChatDelta, None, None]:
        errors: list[GatewayError] = []
        for number, attempt in enumerate(plan):
            try:
                with closing(attempt.client._deltas(attempt.prepared, attempt.headers, call)) as deltas:
                    for delta in deltas:
                        served.gateway = attempt.gateway
                        yield delta
                return
            except GatewayError as exc:
                errors.append(exc)
                reason = failover_reason(exc, attempt.prepared.info, attempt.gateway)
                if served.gateway is not None or reason is None or number + 1 == len(plan):
                    _attach(exc, errors)
                    raise
                _log_failover(attempt, plan[number + 1], reason, exc)
                if call is not None:
                    call.hop(attempt.gateway, plan[number + 1].gateway, reason, exc)

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def __enter__(self) -> FailoverClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- async: the same loop, awaited ---------------------------------------------------------------------

    async def achat(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> ChatResult:
        """Async `chat`."""
        served = _Served()
        accumulator = StreamAccumulator()
        plan = self._plan(request, tool_mode, stream=False)
        call = start_call(request, "chat", _servers(plan), stream=False)
        async for delta in awatch(self._adeltas(plan, served, call), call):
            accumulator.add(delta)
        accumulator.gateway = served.gateway
        return accumulator.result()

    def astream(self, request: ChatRequest, *, tool_mode: ToolMode = "auto") -> AsyncFailoverChatStream:
        """Async `stream`."""
        served = _Served()
        plan = self._plan(request, tool_mode, stream=True)
        call = start_call(request, "chat", _servers(plan), stream=True)
        return AsyncFailoverChatStream(awatch(self._adeltas(plan, served, call), call), served)

    async def _adeltas(
        self, plan: list[_Attempt], served: _Served, call: Call | None = None
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
                _log_failover(attempt, plan[number + 1], reason, exc)
                if call is not None:
                    call.hop(attempt.gateway, plan[number + 1].gateway, reason, exc)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def __aenter__(self) -> FailoverClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


# --- the factory -------------------------------------------------------------------------------------------


def create_client(
    gateway: str | Sequence[str],
    *,
    api_key: KeyArg | Mapping[str, str | SecretStr] = None,
    base_url: str | Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    max_retries: int = DEFAULT_MAX_RETRIES,
    default_headers: Mapping[str, str] | None = None,
    usage_hook: UsageHook | None = None,
    allow_insecure_http: bool = False,
    transport: httpx.BaseTransport | None = None,
    async_transport: httpx.AsyncBaseTransport | None = None,
) -> GatewayClient | FailoverClient:
    """A `GatewayClient` for one gateway, a `FailoverClient` for several (a list, or `"apipie,aimlapi"`).

    `api_key` / `base_url`: one value for one gateway, or a mapping per gateway name (missing names use
    that gateway's environment variables and default URL). The other arguments are `GatewayClient`'s and
    apply to every gateway: each one retries `max_retries` times before the next gets the request.
    """
    names = split_gateways(gateway)
    keys = per_gateway(api_key, names, "api_key")
    urls = per_gateway(base_url, names, "base_url")
    clients = [
        GatewayClient(
            name,
            api_key=keys.get(name),
            base_url=urls.get(name),
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            usage_hook=usage_hook,
            allow_insecure_http=allow_insecure_http,
            transport=transport,
            async_transport=async_transport,
        )
        for name in names
    ]
    return clients[0] if len(clients) == 1 else FailoverClient(clients)
