"""`StreamAccumulator`: adds `ChatDelta`s up into a `ChatResult`, in linear time.

Text goes into lists joined once at the end (never `str +=` in a loop); tool-call fragments are grouped by
`index`, then by `id` (a fragment naming a new id at a known index starts another call). `chat()` is exactly
this applied to the deltas of a one-chunk stream, so a streamed and a non-streamed reply add up the same way.
A call that received no argument text at all (a no-argument tool) gets `"{}"`, never an empty string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._types import ChatDelta, ChatResult, ToolCall, ToolCallDelta, Usage

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(slots=True)
class _CallParts:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)


def _by_index(parts: _CallParts) -> int:
    return parts.index


class StreamAccumulator:
    """Feed deltas with `add()` (or `extend()`); `result()` gives the reply so far."""

    __slots__ = (
        "_by_id",
        "_by_index",
        "_calls",
        "_content",
        "_logprobs",
        "_reasoning",
        "client_request_id",
        "finish_reason",
        "gateway",
        "id",
        "model",
        "others",
        "provider",
        "request_id",
        "usage",
    )

    def __init__(self, *, gateway: str | None = None) -> None:
        self.gateway = gateway
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[_CallParts] = []
        self._logprobs: list[dict[str, Any]] | None = None
        self._by_index: dict[int, _CallParts] = {}
        self._by_id: dict[str, _CallParts] = {}
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.id: str | None = None
        self.model: str | None = None
        self.provider: str | None = None
        self.request_id: str | None = None
        self.client_request_id: str | None = None
        self.others: list[ChatResult] = []

    def add(self, delta: ChatDelta) -> None:
        if delta.content:
            self._content.append(delta.content)
        if delta.reasoning:
            self._reasoning.append(delta.reasoning)
        for call in delta.tool_calls:
            self._add_call(call)
        if delta.logprobs:
            if self._logprobs is None:
                self._logprobs = []
            self._logprobs.extend(delta.logprobs)
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason
        if delta.usage is not None:
            self.usage = delta.usage  # reported once per reply; a later one replaces, never adds
        if delta.id and self.id is None:
            self.id = delta.id
        if delta.model:
            self.model = delta.model
        if delta.provider:
            self.provider = delta.provider
        if delta.request_id:
            self.request_id = delta.request_id
        if delta.client_request_id:
            self.client_request_id = delta.client_request_id
        if delta.others:
            self.others = list(delta.others)

    def _add_call(self, call: ToolCallDelta) -> None:
        """Group by index, then by id: a fragment naming another id at a known index is another call."""
        parts = self._by_id.get(call.id) if call.id else None
        if parts is None:
            parts = self._by_index.get(call.index)
            if parts is not None and call.id and parts.id and parts.id != call.id:
                parts = None
        if parts is None:
            parts = _CallParts(index=call.index)
            self._calls.append(parts)
        self._by_index[call.index] = parts
        if call.id and parts.id is None:
            parts.id = call.id
            self._by_id[call.id] = parts
        if call.name and not parts.name:
            parts.name = call.name
        if call.arguments:
            parts.arguments.append(call.arguments)

    def extend(self, deltas: Iterable[ChatDelta]) -> StreamAccumulator:
        for delta in deltas:
            self.add(delta)
        return self

    def result(self) -> ChatResult:
        tool_calls = [
            ToolCall(id=parts.id or "", name=parts.name or "", arguments="".join(parts.arguments) or "{}")
            for parts in sorted(self._calls, key=_by_index)
        ]
        return ChatResult(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=tool_calls,
            finish_reason=self.finish_reason,
            usage=self.usage,
            id=self.id,
            model=self.model,
            provider=self.provider,
            gateway=self.gateway,
            logprobs=list(self._logprobs) if self._logprobs is not None else None,
            request_id=self.request_id,
            client_request_id=self.client_request_id,
            others=self.others,
        )
