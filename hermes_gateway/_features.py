"""Gateway extension fields as they are sent: spellings normalised, values checked before anything is sent.

Pure: `normalise_extensions(body, gateway)` edits a request body in place, once per request (never per chunk).

- APIpie `routing`: the docs spell the average-latency option both `perf_avg` (the API reference's list
  price | perf | perf_avg, gateways.md) and `perf-avg` (docs/Features/Routing.md in
  neuronic-ai/APIpie.ai-docs). Both are accepted; `perf_avg` is sent. Any other value is refused here with
  the choices, since an unknown value is not known to raise anything on the gateway.
- APIpie multi-model: `model="a,b"` answers a JSON array, one completion per model (`multi_model_id`).
- Hermes 4 reasoning, one switch for both gateways (`apply_reasoning`): `thinking` (our field, never sent)
  turns thinking on with the system prompt the Hermes 4 / DeepHermes cards give (hermes.md: "a system
  prompt asking for <think> tags"): the model itself does it, so it works on every gateway. `reasoning_effort`
  (low | medium | high) is sent where documented: AI/ML API's Hermes 3 / Hermes 4 70B specs take a top-level
  `reasoning_effort` (aimlapi/api-docs, text-models-llm/nousresearch/*.json; the Hermes 4 405B page lists
  no reasoning field, and AI/ML API drops unknown fields silently, so there it may do nothing). APIpie
  documents no reasoning control: the field is not sent there (see docs/gateway-features.md).
- APIpie memory (`memory`, `mem_session`, `mem_expire`, `mem_clear`, `mem_msgs`, `mem_length`, documented in
  docs/api/Chat/chatcompletions.md): ranges checked (mem_expire 1-1440 minutes, mem_length 1-100 percent).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ._catalog import resolve_model_id

logger = logging.getLogger("hermes_gateway")

MAX_MODELS = 5
"""APIpie: `model` may list up to 5 comma-separated models (docs/api/Chat/chatcompletions.md)."""

ROUTING_SENT: dict[str, str] = {
    "price": "price",
    "perf": "perf",
    "perf_avg": "perf_avg",
    "perf-avg": "perf_avg",
}
"""Accepted APIpie `routing` values → the spelling sent."""

_MEMORY_RANGES: dict[str, tuple[int, int]] = {
    "mem_expire": (1, 1440),  # minutes; APIpie: default 15, max 1440
    "mem_length": (1, 100),  # percent of the model's max response tokens
}


THINKING_PROMPT = (
    "You are a deep thinking AI, you may use extremely long chains of thought to deeply consider the "
    "problem and deliberate with yourself via systematic reasoning processes to help come to a correct "
    "solution prior to answering. You should enclose your thoughts and internal monologue inside <think> "
    "</think> tags, and then provide your solution or response to the problem."
)
"""The reasoning system prompt of the Hermes 4 / DeepHermes 3 model cards."""
EFFORTS = frozenset({"low", "medium", "high"})
EFFORT_GATEWAYS = frozenset({"aimlapi", "openai"})

FEATURE_OPTIONS: frozenset[str] = frozenset({"thinking", "reasoning_effort", "memory"})
"""The typed gateway features an adapter accepts per call as well as at construction (they travel in
`extra_body` and are turned into each gateway's own fields by `normalise_extensions`)."""
"""Where `reasoning_effort` is sent (documented by AI/ML API; OpenAI's own field for local servers)."""


def apply_reasoning(body: dict[str, Any], gateway: str) -> None:
    """`thinking` / `reasoning_effort` in `body` → what `gateway` understands (see the module docstring).

    The caller's messages are never mutated: a new list (and a new system message) is built when needed.
    """
    thinking = body.pop("thinking", None)
    if thinking is not None and not isinstance(thinking, bool):
        raise ValueError(f"thinking must be True, False or None, not {thinking!r}")
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in EFFORTS:
            raise ValueError(f"reasoning_effort must be 'low', 'medium' or 'high', not {effort!r}")
        if gateway not in EFFORT_GATEWAYS:
            del body["reasoning_effort"]
            logger.debug("reasoning_effort not sent to %s: it documents no reasoning control", gateway)
    if thinking:
        messages = list(body.get("messages") or [])
        if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
            first = messages[0]
            if THINKING_PROMPT not in first["content"]:
                messages[0] = {**first, "content": f"{THINKING_PROMPT}\n\n{first['content']}"}
        else:
            messages.insert(0, {"role": "system", "content": THINKING_PROMPT})
        body["messages"] = messages


@dataclass(frozen=True, slots=True)
class APIpieMemory:
    """APIpie Integrated Model Memory for one conversation: pass as `memory=` (adapter option or per call).

    APIpie keeps the session's messages and prepends them to each request, so send only the new turn: the
    framework's own history on top would double the context (docs/gateway-features.md, "APIpie memory").
    """

    session: str | None = None
    """`mem_session`: one per user or conversation (None: APIpie's unnamed default session)."""
    expire_minutes: int | None = None
    """`mem_expire`: 1-1440 minutes (APIpie's default 15)."""
    max_messages: int | None = None
    """`mem_msgs`: how many stored messages are appended (APIpie's default 8)."""
    length_percent: int | None = None
    """`mem_length`: 1-100, the share of the model's max response tokens memory may use."""
    clear: bool = False
    """`mem_clear`: delete the session (APIpie answers with a status message instead of a completion)."""

    def __post_init__(self) -> None:
        check_memory_fields(self.fields())

    def fields(self) -> dict[str, Any]:
        """The request fields APIpie documents for it."""
        values = {
            "memory": 1,
            "mem_session": self.session,
            "mem_expire": self.expire_minutes,
            "mem_msgs": self.max_messages,
            "mem_length": self.length_percent,
            "mem_clear": 1 if self.clear else None,
        }
        return {k: v for k, v in values.items() if v is not None}


def check_memory_fields(body: dict[str, Any]) -> None:
    """ValueError for APIpie memory values outside the documented ranges."""
    for name, (low, high) in _MEMORY_RANGES.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"APIpie {name} must be a whole number from {low} to {high}, not {value!r}")
    msgs = body.get("mem_msgs")
    if msgs is not None and (isinstance(msgs, bool) or not isinstance(msgs, int) or msgs < 1):
        raise ValueError(f"APIpie mem_msgs must be a whole number of at least 1, not {msgs!r}")


def normalise_extensions(body: dict[str, Any], gateway: str) -> None:
    """Fix spellings and check values of the gateway's own fields in `body`; ValueError saying what to do."""
    apply_reasoning(body, gateway)
    memory = body.get("memory")
    if isinstance(memory, APIpieMemory):
        del body["memory"]
        if gateway == "apipie":
            body.update(memory.fields())
        else:  # failover to another gateway: it has no memory of this conversation
            logger.warning(
                "APIpie memory is not sent to %s: it does not keep APIpie's stored history", gateway
            )
    if gateway != "apipie":
        return
    routing = body.get("routing")
    if routing is not None:
        sent = ROUTING_SENT.get(str(routing).strip().lower()) if isinstance(routing, str) else None
        if sent is None:
            raise ValueError(
                f"APIpie routing must be one of 'price', 'perf' or 'perf_avg' ('perf-avg' is accepted too), "
                f"not {routing!r}"
            )
        body["routing"] = sent
    check_memory_fields(body)


def multi_model_id(model: str, gateway: str, *, stream: bool) -> str:
    """The `model` to send for a comma-separated list (each name resolved to the gateway's id).

    Only APIpie documents it, up to 5 models, and only as a JSON array of whole completions: a stream of
    several models has no documented shape, so it is refused here rather than read as one model's stream.
    """
    names = [name.strip() for name in model.split(",")]
    if gateway != "apipie":
        raise ValueError(
            f"a comma-separated model ({model!r}) is APIpie's multi-model request; {gateway} takes one model"
        )
    if any(not name for name in names) or len(names) > MAX_MODELS:
        raise ValueError(f"APIpie takes 1 to {MAX_MODELS} comma-separated models, got {model!r}")
    if stream:
        raise ValueError(
            "APIpie answers a multi-model request with one whole completion per model, not a stream: call "
            "invoke/chat (the replies come back one per model), or stream one model at a time"
        )
    return ",".join(resolve_model_id(name, gateway) for name in names)
