"""The per-call observer: spending caps (`_budget`) and OpenTelemetry (`_telemetry`) behind four hooks.

A client wires a call in with three lines (see `GatewayClient.chat` / `stream`):

    call = start_call(request, "chat", servers, stream=...)  # before I/O: may raise BudgetExceededError
    deltas = self._deltas(..., call)       # the drivers report call.retry(...) / call.hop(...)
    deltas = watch(deltas, call)           # (`awatch` for async): the span lives in here

`start_call` answers None when no cap is in force and no tracer/meter provider is configured: `watch` then
hands the generator back untouched, so an unobserved call does no work per chunk. Otherwise `watch` wraps the
delta generator: it starts the span at the first `next()`, remembers the final delta (the one carrying
`gateway`), and settles the budgets and ends the span when the generator ends, raises, or is closed early (an
abandoned stream). `retry` and `hop` are only called on failures, so they cost nothing on the happy path.

Nothing here can break a call: an exception inside the telemetry is logged and swallowed.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from . import _telemetry as tm
from ._accumulator import StreamAccumulator
from ._budget import active_budgets

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, Mapping

    from ._budget import Budget
    from ._exceptions import GatewayError
    from ._types import ChatDelta

logger = logging.getLogger("hermes_gateway")


_METRIC_KEYS = (tm.OPERATION, tm.PROVIDER, tm.REQUEST_MODEL, tm.SERVER_ADDRESS, tm.SERVER_PORT, tm.GATEWAY)
"""The span attributes the metrics carry too (low cardinality: no ids, no token counts)."""


class Call:
    """One observed model call: the budgets it is charged to and its span/metrics (either may be absent)."""

    __slots__ = (
        "_accumulator",
        "_attributes",
        "_budgets",
        "_instruments",
        "_request",
        "_servers",
        "_span",
        "_started",
        "operation",
    )

    def __init__(
        self,
        request: Mapping[str, Any],
        operation: str,
        servers: Mapping[str, str],
        *,
        stream: bool,
        budgets: tuple[Budget, ...],
        instruments: tm.Instruments | None,
    ) -> None:
        self.operation = operation
        self._request = request
        self._servers = servers
        self._budgets = budgets
        self._instruments = instruments
        self._span: Any = None
        self._started = 0.0
        self._accumulator: StreamAccumulator | None = None
        gateway, base_url = next(iter(servers.items()))
        self._attributes: dict[str, Any] = (
            tm.request_attributes(request, operation, gateway, base_url, stream=stream) if instruments else {}
        )

    # -- hooks the drivers call -----------------------------------------------------------------------------

    def retry(self, gateway: str, attempt: int, error: GatewayError, delay: float) -> None:
        """The driver will resend after `delay` seconds (attempt counts from 0)."""
        self._event(
            "hermes_gateway.retry",
            {
                tm.GATEWAY: gateway,
                "hermes_gateway.retry.attempt": attempt + 1,
                "hermes_gateway.retry.delay_s": delay,
                tm.ERROR_TYPE: tm.error_type(error),
                "http.response.status_code": error.status_code or 0,
            },
        )

    def hop(self, gateway: str, next_gateway: str, reason: str, error: GatewayError) -> None:
        """Failover: `gateway` failed with `error` (retries spent) and `next_gateway` gets the request."""
        self._event(
            "hermes_gateway.failover",
            {
                "hermes_gateway.failover.from": gateway,
                "hermes_gateway.failover.to": next_gateway,
                "hermes_gateway.failover.reason": reason,
                tm.ERROR_TYPE: tm.error_type(error),
                "http.response.status_code": error.status_code or 0,
            },
        )

    # -- lifecycle (driven by watch / awatch) ---------------------------------------------------------------

    def begin(self) -> None:
        """The call starts sending (`watch` calls it at the first `next()`; a one-shot operation such as an
        embeddings request calls it itself, then `end()`)."""
        for budget in self._budgets:
            budget.begin()
        self._started = time.perf_counter()
        instruments = self._instruments
        if instruments is None:
            return
        try:
            if instruments.capture_content:
                self._accumulator = StreamAccumulator()
                messages = self._request.get("messages")
                if isinstance(messages, list):
                    self._attributes[tm.INPUT_MESSAGES] = tm.input_messages(messages)
            if instruments.tracer is not None:
                name = f"{self.operation} {self._attributes.get(tm.REQUEST_MODEL, '')}".strip()
                self._span = instruments.tracer.start_span(
                    name, kind=tm.SpanKind.CLIENT, attributes=self._attributes
                )
        except Exception:
            logger.warning("starting the telemetry span failed; the call goes on", exc_info=True)

    def _event(self, name: str, attributes: dict[str, Any]) -> None:
        span = self._span
        if span is None:
            return
        try:
            span.add_event(name, attributes)
        except Exception:
            logger.warning("recording a telemetry event failed", exc_info=True)

    def end(self, final: ChatDelta | None, error: BaseException | None, *, answered: bool) -> None:
        """Settle the budgets and close the span. `final`: the reply's final delta (`usage`, `model`, `id`,
        `finish_reason`, `provider`, `gateway`; a one-shot operation builds one); `answered`: a delta reached
        the caller, so the gateway billed the call even without a final delta."""
        usage = final.usage if final is not None else None
        cost = usage.cost_usd if usage is not None else None
        for budget in self._budgets:
            budget.settle(cost, billed=answered or final is not None)
        if self._instruments is not None:
            try:
                self._record(final, error, answered=answered)
            except Exception:
                logger.warning("recording telemetry failed; the reply is unaffected", exc_info=True)

    def _record(self, final: ChatDelta | None, error: BaseException | None, *, answered: bool) -> None:
        instruments = self._instruments
        if instruments is None:
            return
        duration = time.perf_counter() - self._started
        attributes = self._attributes
        if final is not None and final.gateway:
            host, port = tm.server_of(self._servers.get(final.gateway) or next(iter(self._servers.values())))
            attributes[tm.GATEWAY] = final.gateway
            attributes[tm.PROVIDER] = tm.provider_name(final.gateway)
            attributes[tm.SERVER_ADDRESS], attributes[tm.SERVER_PORT] = host, port
        reply = tm.reply_attributes(final) if final is not None else {}
        span = self._span
        if span is not None:
            span.set_attributes(attributes)
            span.set_attributes(reply)
            if self._accumulator is not None and final is not None:
                span.set_attribute(tm.OUTPUT_MESSAGES, tm.output_messages(self._accumulator.result()))
            if error is not None:
                span.set_attribute(tm.ERROR_TYPE, tm.error_type(error))
                span.set_status(tm.Status(tm.StatusCode.ERROR, str(error)))
            elif final is None:
                span.add_event("hermes_gateway.stream.abandoned", {"hermes_gateway.answered": answered})
            span.end()
        metric_attributes = {key: attributes[key] for key in _METRIC_KEYS if key in attributes}
        if tm.RESPONSE_MODEL in reply:
            metric_attributes[tm.RESPONSE_MODEL] = reply[tm.RESPONSE_MODEL]
        if error is not None:
            metric_attributes[tm.ERROR_TYPE] = tm.error_type(error)
        if instruments.duration is not None:
            instruments.duration.record(duration, metric_attributes)
        usage = final.usage if final is not None else None
        if usage is None:
            return
        if instruments.token_usage is not None:
            instruments.token_usage.record(usage.prompt_tokens, {**metric_attributes, tm.TOKEN_TYPE: "input"})
            if self.operation != "embeddings":  # an embedding has input tokens only
                instruments.token_usage.record(
                    usage.completion_tokens, {**metric_attributes, tm.TOKEN_TYPE: "output"}
                )
        if instruments.cost is not None and usage.cost_usd is not None:
            cost_attributes = dict(metric_attributes)
            if usage.provider:
                cost_attributes[tm.UPSTREAM_PROVIDER] = usage.provider
            instruments.cost.add(usage.cost_usd, cost_attributes)


def start_call(
    request: Mapping[str, Any], operation: str, servers: Mapping[str, str], *, stream: bool
) -> Call | None:
    """Admit the call under every spending cap in force (raises `BudgetExceededError`, before any I/O) and
    prepare its telemetry; None when neither is in force. `servers`: gateway name → base URL, in the order
    the gateways will be tried (the first one names the span's server until another one serves)."""
    budgets = active_budgets()
    instruments = tm.instruments()
    if not budgets and instruments is None:
        return None
    for budget in budgets:
        budget.check()
    return Call(request, operation, servers, stream=stream, budgets=budgets, instruments=instruments)


def watch(deltas: Generator[ChatDelta, None, None], call: Call | None) -> Generator[ChatDelta, None, None]:
    """`deltas` as they are when `call` is None, else observed by it (see the module docstring)."""
    return deltas if call is None else _watched(deltas, call)


def awatch(deltas: AsyncGenerator[ChatDelta, None], call: Call | None) -> AsyncGenerator[ChatDelta, None]:
    """The async `watch`."""
    return deltas if call is None else _awatched(deltas, call)


def _watched(deltas: Generator[ChatDelta, None, None], call: Call) -> Generator[ChatDelta, None, None]:
    call.begin()
    final: ChatDelta | None = None
    answered = False
    accumulator = call._accumulator
    try:
        for delta in deltas:
            if delta.gateway is not None:
                final = delta
            if accumulator is not None:
                accumulator.add(delta)
            answered = True
            yield delta
    except GeneratorExit:
        deltas.close()
        call.end(final, None, answered=answered)
        raise
    except BaseException as exc:
        call.end(final, exc, answered=answered)
        raise
    call.end(final, None, answered=answered)


async def _awatched(deltas: AsyncGenerator[ChatDelta, None], call: Call) -> AsyncGenerator[ChatDelta, None]:
    call.begin()
    final: ChatDelta | None = None
    answered = False
    accumulator = call._accumulator
    try:
        async for delta in deltas:
            if delta.gateway is not None:
                final = delta
            if accumulator is not None:
                accumulator.add(delta)
            answered = True
            yield delta
    except GeneratorExit:
        await deltas.aclose()
        call.end(final, None, answered=answered)
        raise
    except BaseException as exc:
        call.end(final, exc, answered=answered)
        raise
    call.end(final, None, answered=answered)
