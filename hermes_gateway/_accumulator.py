"""`StreamAccumulator`: adds `ChatDelta`s up into a `ChatResult`, in linear time.

Text goes into lists joined once at the end (never `str +=` in a loop). Tool calls are not regrouped here:
the reply pipeline finishes them once (`_tool_calls`) and puts them on the final delta, which is what the
result carries. `chat()` is exactly this applied to the deltas of a one-chunk stream, so a streamed and a
non-streamed reply add up the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._types import ChatDelta, ChatResult, ToolCall, Usage

if TYPE_CHECKING:
    from collections.abc import Iterable


class StreamAccumulator:
    """Feed deltas with `add()` (or `extend()`); `result()` gives the reply so far."""

    __slots__ = (
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
        "tool_calls",
        "usage",
    )

    def __init__(self, *, gateway: str | None = None) -> None:
        self.gateway = gateway
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self._logprobs: list[dict[str, Any]] | None = None
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
        if delta.finished_tool_calls is not None:
            self.tool_calls = delta.finished_tool_calls
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
        if delta.gateway:
            self.gateway = delta.gateway

    def extend(self, deltas: Iterable[ChatDelta]) -> StreamAccumulator:
        for delta in deltas:
            self.add(delta)
        return self

    def result(self) -> ChatResult:
        return ChatResult(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=list(self.tool_calls),
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
