"""Spending caps: a USD budget that refuses the next request once the scope's spend reaches it.

An agent loop that never stops (a tool that always fails, a model that always calls it again) spends until
someone notices. A `Budget` stops it: every model call made inside `spending_cap(max_cost_usd)` (or on a
client/model given the budget) is admitted only while the scope's spend is below the cap; once it is reached,
the next call raises `BudgetExceededError` before anything is sent.

What counts, per reply:
- the gateway-reported cost (APIpie `usage.cost`, AI/ML API `meta.usage.usd_spent`), else the catalog price
  of the model on that gateway (`Usage.cost_usd` already carries that fallback);
- otherwise the cost is unknown: the reply is counted in `unknown_cost_requests` and adds nothing to
  `spent_usd`. With `unknown_cost="refuse"` the scope then refuses every further request, because it can no
  longer promise to stay under the cap;
- a call that failed before its first delta cost nothing (the gateways bill answers, not refusals); a call
  that failed or was abandoned after its first delta is counted as unknown cost.

Concurrency: `check()`, `begin()` and `settle()` take one lock. A call is admitted while
`spent_usd < max_cost_usd`; calls admitted before the cap was reached are not stopped mid-way. So the
overshoot is bounded by the cost of the calls in flight when the cap is crossed (`in_flight`): with N
concurrent calls of at most C dollars each, the scope never spends more than `max_cost_usd + N * C`. A
sequential loop overshoots by at most its last call.

Scopes nest: inside `spending_cap(1.0)` a `spending_cap(0.1)` block is charged to both, and a call is admitted
only while every enclosing budget has room. The scope is a ContextVar, so it follows threads started with a
copied context (LangChain's executors, LangGraph nodes) and asyncio tasks (LlamaIndex workflows).
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Literal

from ._exceptions import BudgetExceededError

if TYPE_CHECKING:
    from collections.abc import Iterator

UnknownCost = Literal["count", "refuse"]
UNKNOWN_COST_MODES: frozenset[str] = frozenset({"count", "refuse"})


class Budget:
    """A USD cap and what has been spent against it; thread- and task-safe. See the module docstring."""

    def __init__(self, max_cost_usd: float, *, unknown_cost: UnknownCost = "count") -> None:
        """`unknown_cost`: "count" (a reply of unknown cost is counted apart and the scope goes on) or
        "refuse" (after one, every further request raises `BudgetExceededError`)."""
        if isinstance(max_cost_usd, bool) or not isinstance(max_cost_usd, (int, float)):
            raise TypeError(f"max_cost_usd must be a number of US dollars, got {max_cost_usd!r}")
        if not math.isfinite(max_cost_usd) or max_cost_usd <= 0:
            raise ValueError(f"max_cost_usd must be a positive number of US dollars, got {max_cost_usd!r}")
        if unknown_cost not in UNKNOWN_COST_MODES:
            modes = sorted(UNKNOWN_COST_MODES)
            raise ValueError(f"unknown_cost must be one of {modes}, not {unknown_cost!r}")
        self.max_cost_usd = float(max_cost_usd)
        self.unknown_cost: UnknownCost = unknown_cost
        self._lock = threading.Lock()
        self.spent_usd = 0.0
        """Known cost of the replies settled so far."""
        self.requests = 0
        """Replies settled (billed), with or without a known cost."""
        self.unknown_cost_requests = 0
        self.refused = 0
        """Requests refused by this budget."""
        self.in_flight = 0
        """Calls admitted and not yet settled: the ones that may overshoot."""

    def __repr__(self) -> str:
        return (
            f"Budget(max_cost_usd={self.max_cost_usd}, spent_usd={self.spent_usd:.6f}, "
            f"requests={self.requests}, unknown_cost_requests={self.unknown_cost_requests}, "
            f"in_flight={self.in_flight})"
        )

    @property
    def remaining_usd(self) -> float:
        return max(0.0, self.max_cost_usd - self.spent_usd)

    @property
    def exhausted(self) -> bool:
        """Whether the next request would be refused."""
        return self.spent_usd >= self.max_cost_usd or (
            self.unknown_cost == "refuse" and self.unknown_cost_requests > 0
        )

    def check(self) -> None:
        """Raise `BudgetExceededError` when the cap is reached (the caller then sends nothing)."""
        with self._lock:
            if self.spent_usd >= self.max_cost_usd:
                self.refused += 1
                raise BudgetExceededError(
                    f"spending cap reached: ${self.spent_usd:.6f} spent of max_cost_usd="
                    f"${self.max_cost_usd:.6f} in this scope; the request was not sent. Raise the cap or "
                    "start a new scope if the spending is intended",
                    max_cost_usd=self.max_cost_usd,
                    spent_usd=self.spent_usd,
                    unknown_cost_requests=self.unknown_cost_requests,
                )
            if self.unknown_cost == "refuse" and self.unknown_cost_requests:
                self.refused += 1
                raise BudgetExceededError(
                    f"{self.unknown_cost_requests} reply(ies) in this scope had no known cost (no gateway "
                    "cost, no catalog price) and the cap was set with unknown_cost='refuse'; the request was "
                    "not sent. Use unknown_cost='count' to go on, or a model the catalog prices",
                    max_cost_usd=self.max_cost_usd,
                    spent_usd=self.spent_usd,
                    unknown_cost_requests=self.unknown_cost_requests,
                )

    def begin(self) -> None:
        """An admitted call starts sending: it is in flight until `settle()`."""
        with self._lock:
            self.in_flight += 1

    def settle(self, cost_usd: float | None, *, billed: bool) -> None:
        """End of a call `begin()` counted: `billed` = it got an answer; `cost_usd` None = unknown."""
        with self._lock:
            self.in_flight -= 1
            if not billed:
                return
            self.requests += 1
            if cost_usd is None:
                self.unknown_cost_requests += 1
            else:
                self.spent_usd += cost_usd


_budgets: ContextVar[tuple[Budget, ...]] = ContextVar("hermes_gateway_budgets", default=())


def active_budgets() -> tuple[Budget, ...]:
    """The budgets of the current scope, outermost first (empty when no cap is in force)."""
    return _budgets.get()


@contextmanager
def use_budget(budget: Budget) -> Iterator[Budget]:
    """Charge every model call made inside the block to `budget` too (an existing one: it keeps its spend)."""
    outer = _budgets.get()
    token = _budgets.set(outer if budget in outer else (*outer, budget))
    try:
        yield budget
    finally:
        _budgets.reset(token)


@contextmanager
def spending_cap(max_cost_usd: float, *, unknown_cost: UnknownCost = "count") -> Iterator[Budget]:
    """Refuse model calls with `BudgetExceededError` once those made inside the block have spent the cap.

    ```python
    with spending_cap(0.05) as budget:
        ...  # LangChain, LlamaIndex or GatewayClient calls, sync or async
    print(budget.spent_usd, budget.requests)
    ```
    """
    with use_budget(Budget(max_cost_usd, unknown_cost=unknown_cost)) as budget:
        yield budget
