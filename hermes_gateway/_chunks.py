"""Chunk dict → `ChatDelta`: the one converter for streamed chunks and whole completions alike.

A non-streamed completion is converted as a one-chunk stream (its `message` read like a `delta`), so the two
paths cannot drift. This is the hot path: plain dict access, no pydantic, one small object per chunk.

Quirks handled (../shared/reference/gateways.md):
- APIpie counts `choices[].index` up with every chunk: the choice is `choices[0]`, its index is never a key;
- `choices: []` on a usage-only final chunk; usage repeated cumulatively on several chunks (the last one
  wins);
- `tool_calls: []`; `system_fingerprint: "null"` (ignored); finish_reason `eos` → `stop`;
- tool-call fragments that omit `index`, `id` or `function` after the first belong to the last open call; a
  new `id` on a known index is a new call (some upstreams send every call at index 0);
- `reasoning` / `reasoning_content` → `ChatDelta.reasoning`;
- an `error` object in a 200 chunk → the typed error, raised.

The converter keeps the reply-level facts (id, model, provider, finish_reason, last usage, AI/ML `meta`) as
attributes; `_stream.py` decides when to emit them (once, last).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._error_bodies import error_from_payload
from ._tool_calls import new_call_id
from ._types import ChatDelta, ToolCallDelta, Usage

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FINISH_REASONS: dict[str, str] = {"eos": "stop", "eos_token": "stop", "stop_sequence": "stop"}
"""Non-standard finish reasons → OpenAI's."""


def _content_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts
        return "".join(
            part.get("text") or "" for part in value if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


class ChunkConverter:
    """Converts the chunks of ONE reply; holds the reply-level facts seen so far."""

    __slots__ = (
        "_by_id",
        "_by_wire_index",
        "_call_ids",
        "_generated",
        "_last_call",
        "_named",
        "finish_reason",
        "gateway",
        "id",
        "meta",
        "model",
        "provider",
        "usage",
    )

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.id: str | None = None
        self.model: str | None = None
        self.provider: str | None = None
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        """The last usage object seen (cumulative repeats overwrite, never add)."""
        self.meta: dict[str, Any] | None = None
        """AI/ML API's `meta` block (holds `usage.usd_spent`)."""
        self._call_ids: list[str] = []
        """Our tool-call index → its id (native or generated), for every call of the reply."""
        self._generated: list[bool] = []
        self._named: list[bool] = []
        self._by_id: dict[str, int] = {}
        self._by_wire_index: dict[int, int] = {}
        self._last_call: int | None = None

    # -- tool-call numbering, shared with the text parser's calls --------------------------------------------

    def new_call(self, call_id: str | None = None) -> tuple[int, str]:
        """Allocate the next tool-call index (native or text-parsed: the one numbering of a reply's calls)
        and its id (a fresh one when absent: unique per call, even when a server repeats response ids)."""
        index = len(self._call_ids)
        generated = not call_id
        if not call_id:
            call_id = new_call_id()
        self._call_ids.append(call_id)
        self._generated.append(generated)
        self._named.append(False)
        self._by_id[call_id] = index
        return index, call_id

    def _native_call(self, raw: Mapping[str, Any], whole: bool) -> ToolCallDelta:
        wire_index = raw.get("index")
        if not isinstance(wire_index, int) or isinstance(wire_index, bool):
            wire_index = None
        call_id = raw.get("id") or None
        if call_id is not None and not isinstance(call_id, str):
            call_id = str(call_id)
        slot = self._by_id.get(call_id) if call_id is not None else None
        if slot is None and not whole:
            if wire_index is not None:
                known = self._by_wire_index.get(wire_index)
                if known is not None and (
                    call_id is None or self._generated[known] or self._call_ids[known] == call_id
                ):
                    slot = known
            elif call_id is None:
                slot = self._last_call
        emit_id: str | None = None
        if slot is None:
            slot, emit_id = self.new_call(call_id)
        if wire_index is not None:
            self._by_wire_index[wire_index] = slot
        self._last_call = slot

        fn = raw.get("function")
        name: str | None = None
        arguments = ""
        if isinstance(fn, dict):
            raw_name = fn.get("name")
            if raw_name and not self._named[slot]:
                name = str(raw_name)
                self._named[slot] = True
            args = fn.get("arguments")
            if isinstance(args, str):
                arguments = args
            elif args is not None:  # some servers send the arguments as an object
                arguments = json.dumps(args, ensure_ascii=False)
        return ToolCallDelta(index=slot, id=emit_id, name=name, arguments=arguments)

    # -- the converter --------------------------------------------------------------------------------------

    def convert(self, chunk: Mapping[str, Any]) -> ChatDelta | None:
        """One chunk (or a whole completion) → the delta of content/reasoning/native tool calls it adds.

        None when the chunk adds none of those (role-only, usage-only, finish-only chunks). Raises the typed
        `GatewayError` when the chunk carries an `error` object.
        """
        get = chunk.get
        if get("error"):
            raise error_from_payload(chunk, gateway=self.gateway)
        if self.id is None:
            chunk_id = get("id")
            if chunk_id:
                self.id = str(chunk_id)
        model = get("model")
        if model:
            self.model = model
        if self.provider is None:
            provider = get("provider")
            if provider:
                self.provider = provider
        usage = get("usage")
        if usage and isinstance(usage, dict):
            self.usage = usage
        meta = get("meta")
        if meta and isinstance(meta, dict):
            self.meta = meta

        choices = get("choices")
        if not choices or not isinstance(choices, list):
            return None
        choice = choices[0]  # n=1: never key on choice["index"] (APIpie counts it up per chunk)
        if not isinstance(choice, dict):
            return None
        finish = choice.get("finish_reason")
        if finish:
            self.finish_reason = FINISH_REASONS.get(finish, finish)
        whole = False
        delta = choice.get("delta")
        if delta is None:
            delta = choice.get("message")
            whole = True
        logprobs = choice.get("logprobs")
        if logprobs:  # asked for: the token entries travel with the text they describe
            return self._with_logprobs(delta if isinstance(delta, dict) else {}, logprobs, whole)
        if not delta or not isinstance(delta, dict):
            return None

        content = delta.get("content")
        if len(delta) == 1 and content.__class__ is str:  # the hot path: {"content": "..."}
            return ChatDelta(content) if content else None
        return self._full_delta(delta, whole)

    def _with_logprobs(self, delta: dict[str, Any], logprobs: Any, whole: bool) -> ChatDelta | None:
        entries = logprobs.get("content") if isinstance(logprobs, dict) else None
        out = self._full_delta(delta, whole)
        if not isinstance(entries, list) or not entries:
            return out
        if out is None:
            out = ChatDelta()
        out.logprobs = [entry for entry in entries if isinstance(entry, dict)]
        return out

    def _full_delta(self, delta: dict[str, Any], whole: bool) -> ChatDelta | None:
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            content = _content_text(content)
        reasoning = delta.get("reasoning") or delta.get("reasoning_content")
        if reasoning is not None and not isinstance(reasoning, str):
            reasoning = _content_text(reasoning)
        raw_calls = delta.get("tool_calls")
        if not content and not reasoning and not raw_calls:
            return None
        calls = (
            [self._native_call(raw, whole) for raw in raw_calls if isinstance(raw, dict)]
            if raw_calls and isinstance(raw_calls, list)
            else []
        )
        return ChatDelta(content=content or "", reasoning=reasoning or "", tool_calls=calls)


def _number(value: Any) -> float | None:
    """A number from a number or a numeric string (APIpie's `cost` is either); None otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _int(value: Any) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def usage_from(
    raw: Mapping[str, Any],
    *,
    meta: Mapping[str, Any] | None,
    gateway: str,
    model: str | None,
    provider: str | None,
    measured_latency_ms: float | None,
    fallback_cost: Callable[[int, int], float | None] | None = None,
    header_cost: float | None = None,
) -> Usage:
    """The normalised `Usage` of a reply from the gateway's usage object (and AI/ML API's `meta`).

    Cost, first found wins: `usage.cost` (APIpie), `meta.usage.usd_spent` (AI/ML API), the reply's
    `x-aimlapi-usd-spent` header (`header_cost`: live AI/ML API replies can lack `meta`, gateways.md
    Corrections), then the catalog's price (`fallback_cost`).
    """
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    cost = _number(raw.get("cost"))
    if cost is None and meta:
        meta_usage = meta.get("usage")
        if isinstance(meta_usage, dict):
            cost = _number(meta_usage.get("usd_spent"))
    if cost is None:
        cost = header_cost
    if cost is None and fallback_cost is not None:
        cost = fallback_cost(prompt, completion)
    latency = _number(raw.get("latency_ms"))
    prompt_details = raw.get("prompt_tokens_details")
    completion_details = raw.get("completion_tokens_details")
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    reasoning = completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    kept = dict(raw)
    if meta:
        kept["meta"] = dict(meta)
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cost_usd=cost,
        latency_ms=latency if latency is not None else measured_latency_ms,
        provider=provider,
        model=model,
        gateway=gateway,
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
        raw=kept,
    )
