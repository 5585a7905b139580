"""Tool calls finished once, in the core: fragments grouped under one numbering, arguments judged once.

The reply pipeline numbers every call of a reply once (`_chunks.ChunkConverter.new_call`: native calls and
calls parsed from Hermes `<tool_call>` text share that numbering) and feeds each fragment here. At the end of
the reply `ToolCallAssembler.finish()` gives the complete calls, each with its parsed `args` or the reason
they are invalid (`error`): the final `ChatDelta` and the `ChatResult` carry them, and the adapters map them
without parsing again, so both frameworks give the same verdict for the same text, streamed or not.

The verdict (`judge_arguments`): the arguments text must be one JSON object, or empty / `null` (no arguments:
`{}`).
Everything else is invalid, with a reason: truncated JSON (`{"a": 1`), a JSON string holding an object
(double-encoded `"{\\"a\\": 1}"`), an array or a number, or a call without a function name. Invalid calls are
never dropped and never repaired: guessing arguments would run a tool with input the model did not give.

Ids: a call that arrives without one gets `"call_" + 24 random hex digits`, unique per call even when a
server repeats its response ids (tests/cassette_support.py normalises generated ids so replay stays exact).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from ._types import ToolCall

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._types import ToolCallDelta

GENERATED_ID_PREFIX = "call_"


def new_call_id() -> str:
    """A fresh tool-call id for a call that arrived without one."""
    return GENERATED_ID_PREFIX + uuid.uuid4().hex[:24]


def judge_arguments(name: str, text: str) -> tuple[dict[str, Any] | None, str | None]:
    """`(args, None)` for a valid call, `(None, reason)` for an invalid one (see the module docstring)."""
    stripped = text.strip()
    if not stripped or stripped == "null":  # no arguments (some servers send `null` for a no-argument tool)
        args: Any = {}
    else:
        try:
            args = json.loads(stripped)
        except ValueError as exc:
            return None, f"the arguments are not complete JSON ({exc})"
    if not isinstance(args, dict):
        kind = "a JSON string (double-encoded?)" if isinstance(args, str) else f"JSON {type(args).__name__}"
        return None, f"the arguments are {kind}, not a JSON object"
    if not name:
        return None, "the call has no function name"
    return args, None


class _Parts:
    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


class ToolCallAssembler:
    """Adds up the fragments of one reply's tool calls by their (single) index; `finish()` judges them."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[int, _Parts] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, fragments: Iterable[ToolCallDelta]) -> None:
        calls = self._calls
        for fragment in fragments:
            parts = calls.get(fragment.index)
            if parts is None:
                parts = calls[fragment.index] = _Parts()
            if fragment.id and parts.id is None:
                parts.id = fragment.id
            if fragment.name and not parts.name:
                parts.name = fragment.name
            if fragment.arguments:
                parts.arguments.append(fragment.arguments)

    def finish(self) -> list[ToolCall]:
        """The complete calls in index order, each with `args` or `error`."""
        done: list[ToolCall] = []
        for index in sorted(self._calls):
            parts = self._calls[index]
            name = parts.name or ""
            text = "".join(parts.arguments)
            args, error = judge_arguments(name, text)
            done.append(
                ToolCall(
                    id=parts.id or new_call_id(),
                    name=name,
                    arguments=text or "{}",
                    args=args,
                    error=error,
                    index=index,
                )
            )
        return done
