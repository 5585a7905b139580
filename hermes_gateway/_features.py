"""Gateway extension fields as they are sent: spellings normalised, values checked before anything is sent.

Pure: `normalise_extensions(body, gateway)` edits a request body in place, once per request (never per chunk).

- APIpie `routing`: the docs spell the average-latency option both `perf_avg` (the API reference's list
  price | perf | perf_avg, gateways.md) and `perf-avg` (docs/Features/Routing.md in
  neuronic-ai/APIpie.ai-docs). Both are accepted; `perf_avg` is sent. Any other value is refused here with
  the choices, since an unknown value is not known to raise anything on the gateway.
- APIpie memory (`memory`, `mem_session`, `mem_expire`, `mem_clear`, `mem_msgs`, `mem_length`, documented in
  docs/api/Chat/chatcompletions.md): ranges checked (mem_expire 1-1440 minutes, mem_length 1-100 percent).
"""

from __future__ import annotations

from typing import Any

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
