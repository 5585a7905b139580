"""`get_hermes_usage_callback()`: tokens and USD cost of every chat model call in a `with` block.

Like langchain-community's `get_openai_callback`, but the cost is the gateway's own (`cost_usd` in
`response_metadata`: APIpie `usage.cost`, AI/ML API `meta.usage.usd_spent`, else catalog prices) instead of a
price table, and it is kept per model. The handler sits on a ContextVar registered once with langchain-core's
configure hooks, so every run started inside the block (invoke, stream, batch, async, tools inside agents)
gets it without passing callbacks; `on_llm_end` sees one merged message per run, so a stream counts once.
Nested blocks each see their own calls, and the enclosing block sees them too.

`max_cost_usd=` makes the block a spending cap as well (the core's `hermes_gateway.spending_cap`): once the
calls made inside it have spent that much, the next one raises `BudgetExceededError` before anything is sent.
That is what stops a runaway agent loop; `handler.budget` says what the cap has seen.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration
from langchain_core.tracers.context import register_configure_hook

from hermes_gateway import Budget, UnknownCost, spending_cap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.outputs import LLMResult


@dataclass(slots=True)
class ModelUsage:
    """Totals for one model name."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    total_cost: float = 0.0
    """USD, summed over the requests whose cost the gateway reported."""
    successful_requests: int = 0
    requests_without_cost: int = 0
    """Requests whose cost was unknown (not counted in `total_cost`)."""


class HermesUsageCallbackHandler(BaseCallbackHandler):
    """Adds up usage_metadata and gateway cost over the runs it sees; thread- and task-safe."""

    raise_error = False
    run_inline = True
    """Count in the calling thread / task: no executor hop, so totals are final when the call returns."""

    def __init__(self, parent: HermesUsageCallbackHandler | None = None) -> None:
        super().__init__()
        self.budget: Budget | None = None
        """The spending cap of the block, when `max_cost_usd` was given."""
        self._lock = threading.Lock()
        self._parent = parent
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.total_tokens = 0
        self.total_cost = 0.0
        """USD over the requests with a known cost (see `requests_without_cost`)."""
        self.successful_requests = 0
        self.requests_without_cost = 0
        self.by_model: dict[str, ModelUsage] = {}

    def __repr__(self) -> str:
        return (
            f"Tokens Used: {self.total_tokens}\n"
            f"\tPrompt Tokens: {self.prompt_tokens}\n"
            f"\tCompletion Tokens: {self.completion_tokens}\n"
            f"Successful Requests: {self.successful_requests}\n"
            f"Total Cost (USD): ${self.total_cost:.6f}"
            + (
                f" ({self.requests_without_cost} request(s) without a reported cost)"
                if self.requests_without_cost
                else ""
            )
        )

    @property
    def always_verbose(self) -> bool:
        return True

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations[:1]:
                if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
                    self._add(generation.message)

    def _add(self, message: AIMessage) -> None:
        usage = message.usage_metadata
        metadata = message.response_metadata
        model = str(metadata.get("model_name") or "unknown")
        cost = metadata.get("cost_usd")
        cost_value = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
        prompt = usage["input_tokens"] if usage else 0
        completion = usage["output_tokens"] if usage else 0
        total = usage["total_tokens"] if usage else 0
        handler: HermesUsageCallbackHandler | None = self
        while handler is not None:
            handler._record(model, prompt, completion, total, cost_value)
            handler = handler._parent

    def _record(self, model: str, prompt: int, completion: int, total: int, cost: float | None) -> None:
        with self._lock:
            entry = self.by_model.get(model)
            if entry is None:
                entry = self.by_model[model] = ModelUsage()
            for target in (self, entry):
                target.prompt_tokens += prompt
                target.completion_tokens += completion
                target.total_tokens += total
                target.successful_requests += 1
                if cost is None:
                    target.requests_without_cost += 1
                else:
                    target.total_cost += cost


_usage_var: ContextVar[HermesUsageCallbackHandler | None] = ContextVar("hermes_usage_callback", default=None)
register_configure_hook(_usage_var, inheritable=True)


@contextmanager
def get_hermes_usage_callback(
    max_cost_usd: float | None = None, *, unknown_cost: UnknownCost = "count"
) -> Iterator[HermesUsageCallbackHandler]:
    """Count tokens and USD cost of every chat model call made inside the block; with `max_cost_usd`, also
    refuse calls (`BudgetExceededError`, nothing sent) once the block has spent that much (see
    docs/observability.md for `unknown_cost` and the concurrency bound).

    ```python
    with get_hermes_usage_callback() as cb:
        llm.invoke("Hello")
        for _ in llm.stream("Hi"):
            pass
    print(cb.total_tokens, cb.total_cost, cb.by_model)
    ```
    """
    handler = HermesUsageCallbackHandler(parent=_usage_var.get())
    token = _usage_var.set(handler)
    try:
        if max_cost_usd is None:
            yield handler
        else:
            with spending_cap(max_cost_usd, unknown_cost=unknown_cost) as budget:
                handler.budget = budget
                yield handler
    finally:
        _usage_var.reset(token)
