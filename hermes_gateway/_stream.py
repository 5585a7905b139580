"""The per-request reply pipeline, and the stream objects the client hands out.

`ReplyPipeline` is pure (no I/O, no clock): bytes → SSE events (`_sse`) → JSON → `ChatDelta` (`_chunks`) →
Hermes text parsing (`_hermes_parser`: `<think>` always, `<tool_call>` text when the request had tools) →
deltas out. It emits content / reasoning / tool-call deltas as they come and holds the reply-level facts back,
so that `finish()` emits exactly ONE final delta with finish_reason, usage, id, model, provider, and the
reply's tool calls finished and judged (`_tool_calls`: only replies with tool calls pay for it). A
non-streamed completion goes through `feed_completion()` and the same `finish()`: one parse path.

End-of-reply rules: `data: [DONE]` ends the reply; a body that ends after a finish_reason without `[DONE]` is
a clean end too; a body that ends with neither raises `StreamInterruptedError` (never a silently partial
answer).

`ChatStream` / `AsyncChatStream` wrap the client's generators: iterate them for deltas; leaving the `with`
block or breaking out of the loop closes the HTTP response.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._accumulator import StreamAccumulator
from ._chunks import ChunkConverter, usage_from
from ._error_bodies import REQUEST_ID_HEADERS, text_excerpt
from ._exceptions import InvalidResponseError, StreamInterruptedError
from ._hermes_parser import HermesTextParser, ParsedText
from ._sse import ServerSentEvent, SSEDecoder
from ._tool_calls import ToolCallAssembler
from ._types import ChatDelta, ChatResult, Usage

if TYPE_CHECKING:
    from types import TracebackType

logger = logging.getLogger("hermes_gateway")
CostFallback = Callable[[int, int], "float | None"]
# JSONDecoder sets `scan_once` (the C scanner) in __init__; typeshed does not declare it, hence the ignore.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""`(value, end)` for the JSON value at an index; StopIteration or ValueError when there is none."""


def _choice_index(choice: dict[str, Any]) -> int:
    index = choice.get("index")
    return index if isinstance(index, int) else 0


def _no_id(_index: int) -> str:
    return ""  # ids are assigned by the pipeline (deterministic, numbered after native calls)


def _query_result_as_completion(payload: Any) -> Any:
    """APIpie's answer to `mem_clear` (docs/Features/IMM.md): `{"queryResults": "Memory session deleted
    successfully", "queryDetails": {promptTokens, responseTokens, cost, ...}}` — no `choices`. Read as a
    completion whose text is the message, so it is neither an error nor a silently empty reply."""
    if (
        not isinstance(payload, dict)
        or "choices" in payload
        or not isinstance(payload.get("queryResults"), str)
    ):
        return payload
    details = payload.get("queryDetails")
    details = details if isinstance(details, dict) else {}
    prompt, completion = details.get("promptTokens") or 0, details.get("responseTokens") or 0
    return {
        "model": details.get("route"),
        "provider": details.get("provider"),
        "choices": [
            {"message": {"role": "assistant", "content": payload["queryResults"]}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "cost": details.get("cost"),
            "latency_ms": details.get("latencyMs"),
        },
    }


class ReplyPipeline:
    """One reply's bytes (or completion JSON) → deltas. Pure: feed(), feed_completion(), finish()."""

    __slots__ = (
        "_calls",
        "_client_request_id",
        "_complete",
        "_conv",
        "_fallback_cost",
        "_finished",
        "_header_cost",
        "_model",
        "_others",
        "_parse_tool_calls",
        "_parser",
        "_sse",
        "_text_calls",
        "done",
        "gateway",
        "request_id",
        "usage",
    )

    def __init__(
        self,
        *,
        gateway: str,
        model: str | None = None,
        parse_tool_calls: bool = False,
        fallback_cost: CostFallback | None = None,
        tool_names: Collection[str] = (),
        starts_in_reasoning: bool = False,
    ) -> None:
        """`parse_tool_calls`: the request had tools (native or prompt mode): `<tool_call>` text counts.
        `tool_names`, `starts_in_reasoning`: see `HermesTextParser`."""
        self.gateway = gateway
        self._model = model
        self._calls = ToolCallAssembler()
        self._sse = SSEDecoder()
        self._conv = ChunkConverter(gateway)
        self._parser = HermesTextParser(
            tool_calls=parse_tool_calls,
            reasoning=True,
            id_factory=_no_id,
            starts_in_reasoning=starts_in_reasoning,
            tool_names=tool_names,
        )
        self._fallback_cost = fallback_cost
        self._parse_tool_calls = parse_tool_calls
        self._header_cost: float | None = None
        self._others: list[dict[str, Any]] = []
        self.request_id: str | None = None
        """The gateway's id of the request, from the response headers (`read_headers`)."""
        self._client_request_id: str | None = None
        self._text_calls = 0
        self._complete = False
        self._finished = False
        self.done = False
        """`[DONE]` was seen: the driver may stop reading."""
        self.usage: Usage | None = None
        """Set by `finish()` when the gateway reported usage."""

    # -- input -----------------------------------------------------------------------------------------------

    def read_headers(self, headers: Mapping[str, str], client_request_id: str | None = None) -> None:
        """Reply-level facts some gateways send only as headers (once per reply, never per chunk).

        AI/ML API (gateways.md Corrections, live replies): `x-aimlapi-usd-spent` is the cost of a non-streamed
        reply, used when the body has none (a live Hermes 4 405B reply had no `meta`); `x-inference-id`
        names the request. `client_request_id` is the correlation id the client sent (reported back as is).
        """
        self._client_request_id = client_request_id
        for name in REQUEST_ID_HEADERS:
            value = headers.get(name)
            if value:
                self.request_id = value
                break
        spent = headers.get("x-aimlapi-usd-spent")
        if spent:
            try:
                cost = float(spent)
            except ValueError:
                cost = -1.0
            self._header_cost = cost if math.isfinite(cost) and cost >= 0 else None

    def feed(self, data: bytes) -> list[ChatDelta]:
        """The next bytes of an SSE body → the deltas they complete."""
        out: list[ChatDelta] = []
        if self.done:
            return out
        for event in self._sse.feed(data):
            self._event(event, out, False)
            if self.done:
                break
        return out

    def feed_completion(self, payload: Any) -> list[ChatDelta]:
        """A whole non-streamed completion (or a JSON answer to a stream request), as a one-chunk stream."""
        payload = _query_result_as_completion(payload)
        if isinstance(payload, list) and payload and all(isinstance(p, dict) for p in payload):
            # APIpie answers a comma-separated multi-model request with an array, one completion per model:
            # the first is this reply, the rest come back on the final delta's `others` (never dropped).
            payload, self._others = payload[0], payload[1:]
        if isinstance(payload, dict):
            payload = self._split_choices(payload)
        if not isinstance(payload, dict):
            raise InvalidResponseError(
                f"{self.gateway} answered with JSON that is not a chat completion: "
                f"{text_excerpt(json.dumps(payload))}",
                gateway=self.gateway,
                body=payload,
            )
        out: list[ChatDelta] = []
        self._chunk(payload, out)
        self._complete = True
        return out

    def _split_choices(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A completion with several choices (`n` > 1): the first is this reply, each other one comes back as
        a completion of its own on the final delta's `others`, without usage (the reply's usage covers every
        choice and is counted once)."""
        choices = payload.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            return payload
        ordered = sorted((c for c in choices if isinstance(c, dict)), key=_choice_index)
        rest = {k: v for k, v in payload.items() if k not in ("usage", "meta")}
        self._others = [{**rest, "choices": [{**c, "index": 0}]} for c in ordered[1:]] + self._others
        return {**payload, "choices": [{**ordered[0], "index": 0}]}

    def _event(self, event: ServerSentEvent, out: list[ChatDelta], at_eof: bool) -> None:
        data = event.data
        if data == "[DONE]":
            self.done = True
            return
        try:  # the C scanner directly: json.loads adds two regex passes per chunk on the hot path
            payload, end = _scan_json(data, 0)
        except (StopIteration, ValueError):
            payloads = self._slow_payloads(data, at_eof)
        else:
            if end == len(data) and payload.__class__ is dict and event.event is None:
                self._chunk(payload, out)  # the hot path: one compact JSON object, a plain `data:` event
                return
            payloads = [payload] if end == len(data) else self._slow_payloads(data, at_eof)
        for payload in payloads:
            if event.event == "error" and isinstance(payload, dict) and "error" not in payload:
                payload = {"error": payload}
            if not isinstance(payload, dict):
                raise InvalidResponseError(
                    f"{self.gateway} sent a stream chunk that is not a JSON object: {text_excerpt(data)}",
                    gateway=self.gateway,
                    status_code=200,
                    body=data,
                )
            self._chunk(payload, out)

    def _slow_payloads(self, data: str, at_eof: bool) -> list[Any]:
        """Whatever is not one compact JSON object: padding, `[DONE]` with spaces, several JSON chunks on
        consecutive `data:` lines, and broken JSON (malformed, or cut off at the end of the body)."""
        stripped = data.strip()
        if stripped == "[DONE]":
            self.done = True
            return []
        if not stripped:
            return []
        try:
            return [json.loads(stripped)]
        except ValueError:
            pass
        if "\n" in stripped:
            try:
                return [json.loads(line) for line in stripped.split("\n") if line.strip()]
            except ValueError:
                pass
        if at_eof:  # the last event was cut off mid-JSON: the reply is truncated, not malformed
            raise StreamInterruptedError(
                f"the stream from {self.gateway} ended in the middle of a chunk: the reply is incomplete",
                gateway=self.gateway,
            )
        raise InvalidResponseError(
            f"{self.gateway} sent a malformed JSON chunk: {text_excerpt(data)}",
            gateway=self.gateway,
            status_code=200,
            body=data,
        )

    def _chunk(self, payload: dict[str, Any], out: list[ChatDelta]) -> None:
        delta = self._conv.convert(payload)
        if delta is None:
            return
        content = delta.content
        if content:
            parsed = self._parser.feed_plain(content)
            if parsed is None:  # the hot path: plain prose, the delta goes out as it is
                delta.id = self._conv.id
                out.append(delta)
                return
            delta.content = parsed.content
            if parsed.reasoning or parsed.tool_calls:
                self._merge(delta, parsed)
        if delta.tool_calls:
            self._calls.add(delta.tool_calls)
        if delta.content or delta.reasoning or delta.tool_calls or delta.logprobs:
            delta.id = self._conv.id
            out.append(delta)

    def _merge(self, delta: ChatDelta, parsed: ParsedText) -> None:
        if parsed.reasoning:
            delta.reasoning += parsed.reasoning
        for call in parsed.tool_calls:
            call.index, call.id = self._conv.new_call()
            self._text_calls += 1
            delta.tool_calls.append(call)

    # -- end -------------------------------------------------------------------------------------------------

    def finish(self, *, latency_ms: float | None = None) -> list[ChatDelta]:
        """End of body: flush held-back text, then the ONE final delta. Raises if the reply was cut short.

        `latency_ms` is the driver's measured time, used when the gateway reports none.
        """
        if self._finished:
            return []
        self._finished = True
        out: list[ChatDelta] = []
        if not self.done:
            for event in self._sse.finish():
                self._event(event, out, True)
        conv = self._conv
        if not (self.done or self._complete) and conv.finish_reason is None:
            raise StreamInterruptedError(
                f"the stream from {self.gateway} ended before a finish_reason: the reply is incomplete",
                gateway=self.gateway,
            )
        flushed = self._parser.finish()
        if self._parser.stray_think_close:
            logger.warning(
                "%s: the reply closed a </think> it never opened, so the reasoning before it streamed as "
                "content; if this model's chat template opens <think> itself, pass starts_in_reasoning=True",
                self._model or self.gateway,
            )
        tail = ChatDelta(content=flushed.content)
        self._merge(tail, flushed)
        if tail.tool_calls:
            self._calls.add(tail.tool_calls)
        if tail.content or tail.reasoning or tail.tool_calls:
            tail.id = conv.id
            out.append(tail)
        finish_reason = conv.finish_reason
        if self._text_calls and finish_reason == "stop":
            finish_reason = "tool_calls"  # the calls came as text, but they are calls all the same
        model = conv.model or self._model
        if conv.usage is not None or conv.meta is not None or self._header_cost is not None:
            fallback = self._fallback_cost
            self.usage = usage_from(
                conv.usage or {},
                meta=conv.meta,
                gateway=self.gateway,
                model=model,
                provider=conv.provider,
                measured_latency_ms=latency_ms,
                fallback_cost=fallback,
                header_cost=self._header_cost,
            )
        out.append(
            ChatDelta(
                finish_reason=finish_reason,
                usage=self.usage,
                id=conv.id,
                model=model,
                provider=conv.provider,
                gateway=self.gateway,
                request_id=self.request_id,
                client_request_id=self._client_request_id,
                others=self._other_results(latency_ms) if self._others else None,
                finished_tool_calls=self._calls.finish() if self._calls else [],
            )
        )
        return out

    def _other_results(self, latency_ms: float | None) -> list[ChatResult]:
        """The further completions of a multi-model or multi-choice (`n` > 1) reply, each through its own
        pipeline (one parse path).

        No catalog cost fallback: that prices the first model only; each completion carries its own usage.
        """
        results: list[ChatResult] = []
        for payload in self._others:
            other = ReplyPipeline(gateway=self.gateway, parse_tool_calls=self._parse_tool_calls)
            deltas = other.feed_completion(payload)
            deltas += other.finish(latency_ms=latency_ms)
            results.append(StreamAccumulator(gateway=self.gateway).extend(deltas).result())
        return results


class Served:
    """Which gateway serves a reply: set by the client when the first delta arrives."""

    __slots__ = ("gateway",)

    def __init__(self) -> None:
        self.gateway: str | None = None


class ChatStream:
    """A streamed reply: iterate for `ChatDelta`s; use as a context manager so the response is always
    closed. `gateway` names the gateway that serves it, once its first delta has arrived."""

    def __init__(self, deltas: Generator[ChatDelta, None, None], served: Served | None = None) -> None:
        self._deltas = deltas
        self._served = served if served is not None else Served()

    @property
    def gateway(self) -> str | None:
        return self._served.gateway

    def __iter__(self) -> Iterator[ChatDelta]:
        return self._deltas  # a `for` loop drives the generator itself: no Python-level __next__ per delta

    def __next__(self) -> ChatDelta:
        return next(self._deltas)

    def close(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        self._deltas.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncChatStream:
    """The async twin of `ChatStream`: `async for` deltas inside `async with`."""

    def __init__(self, deltas: AsyncGenerator[ChatDelta, None], served: Served | None = None) -> None:
        self._deltas = deltas
        self._served = served if served is not None else Served()

    @property
    def gateway(self) -> str | None:
        return self._served.gateway

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        return self._deltas  # `async for` drives the generator itself: no coroutine per delta

    async def __anext__(self) -> ChatDelta:
        return await self._deltas.__anext__()

    async def aclose(self) -> None:
        """Stop reading and release the connection (idempotent)."""
        await self._deltas.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
