"""Gateway extension fields as they are sent: spellings normalised, values checked before anything is sent.

Pure: `normalise_extensions(body, gateway)` edits a request body in place, once per request (never per chunk).

- APIpie `routing`: the docs spell the average-latency option both `perf_avg` (the API reference's list
  price | perf | perf_avg, gateways.md) and `perf-avg` (docs/Features/Routing.md in
  neuronic-ai/APIpie.ai-docs). Both are accepted; `perf_avg` is sent. Any other value is refused here with
  the choices, since an unknown value is not known to raise anything on the gateway.
- APIpie multi-model: `model="a,b"` answers a JSON array, one completion per model (`multi_model_id`).
- APIpie memory (`memory`, `mem_session`, `mem_expire`, `mem_clear`, `mem_msgs`, `mem_length`, documented in
  docs/api/Chat/chatcompletions.md): ranges checked (mem_expire 1-1440 minutes, mem_length 1-100 percent).
"""

from __future__ import annotations

from typing import Any

from ._catalog import resolve_model_id

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


def normalise_extensions(body: dict[str, Any], gateway: str) -> None:
    """Fix spellings and check values of the gateway's own fields in `body`; ValueError saying what to do."""
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
    for name, (low, high) in _MEMORY_RANGES.items():
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"APIpie {name} must be a whole number from {low} to {high}, not {value!r}")


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
