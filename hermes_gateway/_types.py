"""The normalised shapes every gateway reply is turned into.

Both adapters consume only these: a streamed reply is a sequence of `ChatDelta`s, a non-streamed reply is the
same thing with one delta (one parse path), and `ChatResult` is what a `StreamAccumulator` adds them up to.
They are plain slotted dataclasses, not pydantic models, because one is built per streamed chunk on the hot
path; the pydantic wire models in `_wire.py` describe the JSON the gateways send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

GatewayName = Literal["apipie", "aimlapi", "openai"]
ToolMode = Literal["auto", "native", "hermes"]


@dataclass(slots=True)
class Usage:
    """Token counts and cost of one request, reported once per request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    """The gateway's own cost (APIpie `usage.cost`, AI/ML API `meta.usage.usd_spent`).

    None when unknown, never a pretend 0."""
    latency_ms: float | None = None
    """The gateway's reported latency, else the client's measured time to the last byte."""
    provider: str | None = None
    """The upstream provider that served the request (openrouter, together, ...)."""
    model: str | None = None
    gateway: str | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    """The gateway's usage object as sent (plus `meta` for AI/ML API)."""


@dataclass(slots=True)
class ToolCallDelta:
    """A fragment of one tool call; fragments with the same `index` belong together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)
class ChatDelta:
    """One step of a reply: what a chunk (or a whole non-streamed message) added."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    finish_reason: str | None = None
    """Normalised: `eos` becomes `stop`."""
    usage: Usage | None = None
    """Set on exactly one delta of a reply (the last one that carried usage)."""
    id: str | None = None
    model: str | None = None
    provider: str | None = None
    gateway: str | None = None
    """Set on the final delta: the gateway that served the reply (after failover, the one that answered)."""
    logprobs: list[dict[str, Any]] | None = None
    """The token log-probabilities this step added (OpenAI `choices[0].logprobs.content` entries: `token`,
    `logprob`, `bytes`, `top_logprobs`), when the request asked for `logprobs`; else None."""
    request_id: str | None = None
    """Set on the final delta when the gateway named the request (AI/ML API `x-inference-id`, or
    `x-request-id`): the id its support asks for. Errors carry the same in `GatewayError.request_id`."""
    client_request_id: str | None = None
    """Set on the final delta: the `X-Client-Request-Id` this client sent with the call (a correlation id)."""
    others: list[ChatResult] | None = None
    """Set on the final delta of a multi-model reply (APIpie `model="a,b"` answers a JSON array): the
    completions after the first, one per further model, in the order the gateway sent them."""
    finished_tool_calls: list[ToolCall] | None = None
    """Set on the final delta: every tool call of the reply, complete and judged (`ToolCall.args` or
    `ToolCall.error`), in `index` order; the fragments streamed before it add up to the same calls."""


@dataclass(slots=True)
class ToolCall:
    """A complete tool call, judged once in the core (`_tool_calls.judge_arguments`).

    Exactly one of `args` / `error` is set: the parsed arguments (a JSON object; `{}` for none), or why the
    call is invalid (truncated JSON, a double-encoded string, not an object, no function name). Adapters map
    these; they never parse `arguments` again."""

    id: str
    name: str
    arguments: str
    """The arguments JSON text as received (`"{}"` when none came)."""
    args: dict[str, Any] | None = None
    error: str | None = None
    index: int = 0
    """The call's number in the reply (0, 1, ...): the same `index` its streamed `ToolCallDelta`s carry."""


@dataclass(slots=True)
class ChatResult:
    """A whole reply, as added up from its deltas."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None
    provider: str | None = None
    gateway: str | None = None
    logprobs: list[dict[str, Any]] | None = None
    """Every token's log-probability entry, in order, when the request asked for `logprobs`; else None."""
    request_id: str | None = None
    """The gateway's id of the request (`x-inference-id` / `x-request-id`), when it sent one."""
    client_request_id: str | None = None
    """The correlation id this client sent as `X-Client-Request-Id` (one per call, kept across retries);
    errors carry the same in `GatewayError.client_request_id`."""
    others: list[ChatResult] = field(default_factory=list)
    """A multi-model reply (APIpie `model="a,b"`): the completions after the first, one per model, each with
    its own `model`. Empty for an ordinary reply."""


class ChatRequest(TypedDict, total=False):
    """An OpenAI-style chat completion request, as the adapters hand it to the client.

    `messages` and `tools` are already in wire form (OpenAI dicts). `extra_body` is merged into the JSON body
    last, for gateway extensions (APIpie `provider`, `routing`, `top_k`, ...; AI/ML API `top_k`, `min_p`,
    ...).
    """

    model: str
    messages: list[dict[str, Any]]
    temperature: float
    top_p: float
    max_tokens: int
    stop: list[str]
    n: int
    logprobs: bool
    top_logprobs: int
    seed: int
    presence_penalty: float
    frequency_penalty: float
    tools: list[dict[str, Any]]
    tool_choice: str | dict[str, Any]
    parallel_tool_calls: bool
    response_format: dict[str, Any]
    stream_options: dict[str, Any]
    extra_body: dict[str, Any]
    starts_in_reasoning: bool
    """Not sent. The chat template opened `<think>` itself (QwQ, R1 distills, Qwen3 thinking, Hermes 4 with
    thinking forced on), so the reply starts inside reasoning and only `</think>` comes. Not given: the
    catalog's `ModelInfo.starts_in_reasoning` for the model on that gateway."""
    json_schema: dict[str, Any]
    """Never sent as is: the JSON schema a JSON-mode reply must follow. The core puts it where each route
    takes it (`response_format`, the Hermes `<schema>` prompt, or both)."""
