"""Pydantic v2 models of the wire JSON (requests, completions, chunks, tool calls, usage), for tests only.

Moved here from `hermes_gateway/_wire.py` (issue 12: only a test used them). Tests check that built request
bodies validate as `WireChatRequest`; the reply hot path never builds them (`_chunks.py` reads plain dicts).

Every model allows extra fields: the gateways add their own (`provider`, `meta`, `cost`, `reasoning_details`,
...), and a field we did not foresee must never turn a good answer into a validation error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class WireFunctionCall(_Wire):
    """`function` inside a tool call; in stream deltas every field may be absent."""

    name: str | None = None
    arguments: str | None = Field(default=None, description="JSON text (some servers send an object)")


class WireToolCall(_Wire):
    """A tool call in a message, or a fragment of one in a stream delta (index/id/function may be omitted)."""

    index: int | None = None
    id: str | None = None
    type: str | None = Field(default=None, description='"function"')
    function: WireFunctionCall | None = None


class WireMessage(_Wire):
    """A chat message as sent (request) or received (completion `message`, chunk `delta`)."""

    role: str | None = None
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[WireToolCall] | None = Field(default=None, description="may be [] (AI/ML API)")
    tool_call_id: str | None = None
    reasoning: str | None = Field(default=None, description="OpenRouter / AI/ML API reasoning text")
    reasoning_content: str | None = Field(default=None, description="vLLM / llama.cpp reasoning text")


class WireUsage(_Wire):
    """Usage block; APIpie adds `cost` (number or numeric string), `latency_ms`, character counts."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | str | None = None
    latency_ms: float | None = None
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None


class WireChoice(_Wire):
    """A choice of a non-streamed completion."""

    index: int | None = None
    message: WireMessage | None = None
    finish_reason: str | None = None


class WireChunkChoice(_Wire):
    """A choice of a stream chunk. APIpie counts `index` up per chunk: never key on it when n=1."""

    index: int | None = None
    delta: WireMessage | None = None
    finish_reason: str | None = None


class WireErrorObject(_Wire):
    message: str | None = None
    type: str | None = None
    code: str | int | None = None
    param: str | None = None


class WireChatCompletion(_Wire):
    """A non-streamed completion. `provider` is APIpie's, `meta.usage.usd_spent` AI/ML API's cost."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    provider: str | None = None
    choices: list[WireChoice] = Field(default_factory=list)
    usage: WireUsage | None = None
    system_fingerprint: str | None = Field(default=None, description='APIpie sends the string "null"')
    meta: dict[str, Any] | None = None
    error: WireErrorObject | None = None


class WireChatCompletionChunk(_Wire):
    """One SSE chunk; a final one may have `choices: []` and only usage."""

    id: str | None = None
    object: str | None = None
    created: int | None = None
    model: str | None = None
    provider: str | None = None
    choices: list[WireChunkChoice] = Field(default_factory=list)
    usage: WireUsage | None = None
    system_fingerprint: str | None = None
    meta: dict[str, Any] | None = None
    error: WireErrorObject | None = None


class WireTool(_Wire):
    type: Literal["function"] = "function"
    function: dict[str, Any]


class WireChatRequest(_Wire):
    """The JSON body the client sends (gateway extensions ride along as extra fields)."""

    model: str
    messages: list[WireMessage]
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | str | None = None
    n: int | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    tools: list[WireTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
