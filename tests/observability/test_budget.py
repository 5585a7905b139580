"""Spending caps: runaway agent loops stopped by `BudgetExceededError`, before anything more is sent.

The loops are real framework agents (LangChain `create_agent`, LlamaIndex `FunctionAgent`) against the
replica, whose model obeys a system prompt that says to ALWAYS call the tool: without a cap they would loop
until the framework's own iteration limit (which is set out of reach here).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import ToolMessage
from langchain_core.tools import tool
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool
from pydantic import SecretStr

from hermes_gateway import Budget, BudgetExceededError, GatewayClient, GatewayError, spending_cap, use_budget
from langchain_hermes import ChatHermes, get_hermes_usage_callback
from llamaindex_hermes import Hermes
from tests.replica import Fault, Replica

SECRET = "sk-hermes-budget-secret-0123456789"
ALWAYS = "You are a weather bot. Always call the get_weather tool, on every turn, whatever it returned."
HELLO = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hello"}]}


def _chat_requests(replica: Replica, gateway: str) -> int:
    return sum(1 for r in replica[gateway].requests if r.path.endswith("/chat/completions"))


# --- the Budget itself -------------------------------------------------------------------------------


def test_budget_validates_its_arguments() -> None:
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="max_cost_usd must be a positive number"):
            Budget(bad)
    with pytest.raises(TypeError):
        Budget("1")  # type: ignore[arg-type]  # the wrong type on purpose
    with pytest.raises(ValueError, match="unknown_cost must be one of"):
        Budget(1.0, unknown_cost="ignore")  # type: ignore[arg-type]  # the wrong value on purpose


def test_budget_is_in_the_error_tree() -> None:
    assert issubclass(BudgetExceededError, GatewayError)


def test_a_spent_cap_refuses_before_sending(replica: Replica) -> None:
    client = GatewayClient("apipie", base_url=replica.base_url("apipie"), api_key=SECRET)
    with spending_cap(1e-9) as budget:
        result = client.chat(HELLO)  # below the cap when it starts: it runs, and overshoots
        assert result.usage is not None
        assert result.usage.cost_usd is not None
        assert budget.spent_usd == pytest.approx(result.usage.cost_usd)
        sent = _chat_requests(replica, "apipie")
        with pytest.raises(BudgetExceededError) as caught:
            client.chat(HELLO)
        with pytest.raises(BudgetExceededError):
            client.stream(HELLO)  # a stream is refused when it is asked for, not at its first delta
        assert _chat_requests(replica, "apipie") == sent  # nothing was sent
    assert caught.value.spent_usd == pytest.approx(budget.spent_usd)
    assert caught.value.max_cost_usd == 1e-9
    assert "spending cap reached" in str(caught.value)
    assert budget.requests == 1
    assert budget.refused == 2
    assert budget.in_flight == 0
    client.chat(HELLO)  # outside the block: no cap
    client.close()


def test_nested_caps_are_all_charged(replica: Replica) -> None:
    client = GatewayClient("aimlapi", base_url=replica.base_url("aimlapi"), api_key=SECRET)
    with spending_cap(10.0) as outer:
        with spending_cap(10.0) as inner:
            client.chat({**HELLO, "model": "hermes-4-70b"})
        client.chat({**HELLO, "model": "hermes-4-70b"})
    assert inner.requests == 1
    assert outer.requests == 2
    assert outer.spent_usd > inner.spent_usd > 0
    client.close()


def test_unknown_cost_counts_or_refuses(replica: Replica) -> None:
    """A local OpenAI-compatible server reports no cost and the catalog has no price there."""
    client = GatewayClient("openai", base_url=replica.base_url("openai"), api_key=SECRET)
    request = {
        "model": "NousResearch/Hermes-3-Llama-3.1-8B",
        "messages": [{"role": "user", "content": "Hello"}],
    }
    with spending_cap(1.0) as counting:
        client.chat(request)
        client.chat(request)
    assert counting.unknown_cost_requests == 2
    assert counting.spent_usd == 0
    with spending_cap(1.0, unknown_cost="refuse") as strict:
        client.chat(request)
        with pytest.raises(BudgetExceededError, match="no known cost"):
            client.chat(request)
    assert strict.unknown_cost_requests == 1
    client.close()


def test_failed_calls_cost_nothing(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.error(400))
    client = GatewayClient("apipie", base_url=replica.base_url("apipie"), api_key=SECRET, max_retries=0)
    with spending_cap(1.0) as budget, pytest.raises(GatewayError):
        client.chat(HELLO)
    assert budget.requests == 0
    assert budget.in_flight == 0
    client.close()


def test_concurrent_calls_overshoot_by_at_most_the_calls_in_flight(replica: Replica) -> None:
    client = GatewayClient("apipie", base_url=replica.base_url("apipie"), api_key=SECRET)
    one = client.chat(HELLO).usage
    assert one is not None
    assert one.cost_usd is not None
    threads_n, per_thread = 6, 8
    cap = one.cost_usd * 3.5
    refused: list[BudgetExceededError] = []
    costs: list[float] = []
    lock = threading.Lock()
    before = _chat_requests(replica, "apipie")

    with spending_cap(cap) as budget:

        def worker() -> None:
            for _ in range(per_thread):
                try:
                    usage = client.chat(HELLO).usage
                except BudgetExceededError as exc:
                    with lock:
                        refused.append(exc)
                    continue
                assert usage is not None
                assert usage.cost_usd is not None
                with lock:
                    costs.append(usage.cost_usd)

        # a plain thread starts with an empty context: copy it, as LangChain's and LlamaIndex's executors do
        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(worker,), daemon=True)
            for _ in range(threads_n)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert refused, "the cap never refused anything"
    assert len(costs) + len(refused) == threads_n * per_thread
    assert _chat_requests(replica, "apipie") - before == len(costs)  # refused calls sent nothing
    assert budget.spent_usd == pytest.approx(sum(costs))
    # the bound: the cap, plus what the calls in flight when it was crossed could spend (one per thread)
    assert budget.spent_usd < cap + threads_n * max(costs)
    assert budget.in_flight == 0
    client.close()


def test_async_calls_share_the_scope(replica: Replica) -> None:
    client = GatewayClient("apipie", base_url=replica.base_url("apipie"), api_key=SECRET)

    async def run(budget: Budget) -> list[Any]:
        with use_budget(budget):
            return await asyncio.gather(*(client.achat(HELLO) for _ in range(10)), return_exceptions=True)

    budget = Budget(1e-9)
    outcomes = asyncio.run(run(budget))
    answered = [o for o in outcomes if not isinstance(o, BaseException)]
    assert all(isinstance(o, BudgetExceededError) for o in outcomes if isinstance(o, BaseException))
    # all ten were admitted at once (nothing spent yet): the in-flight bound, not a refusal, applies
    assert budget.requests == len(answered)
    with use_budget(budget), pytest.raises(BudgetExceededError):
        asyncio.run(client.achat(HELLO))
    client.close()


# --- runaway agent loops ------------------------------------------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is 21 degrees and sunny in {city}."


def _langchain_llm(replica: Replica, gateway: str, model: str) -> ChatHermes:
    return ChatHermes(
        model=model,
        gateway=gateway,  # type: ignore[arg-type]  # a gateway name
        base_url=replica.base_url(gateway),
        api_key=SecretStr(SECRET),
        tool_mode="native",
    )


@pytest.mark.parametrize(
    ("gateway", "model"), [("apipie", "hermes-4-70b"), ("aimlapi", "hermes-3-llama-3.1-70b")]
)
def test_create_agent_runaway_loop_is_stopped(replica: Replica, gateway: str, model: str) -> None:
    llm = _langchain_llm(replica, gateway, model)
    agent = create_agent(model=llm, tools=[get_weather], system_prompt=ALWAYS)
    cap = 0.0004
    with get_hermes_usage_callback(max_cost_usd=cap) as cb, pytest.raises(BudgetExceededError) as caught:
        agent.invoke(
            {"messages": [{"role": "user", "content": "What is the weather in Paris?"}]},
            {"recursion_limit": 10_000},
        )
    budget = cb.budget
    assert budget is not None
    assert budget.requests >= 2  # it looped: model, tool, model, ...
    assert _chat_requests(replica, gateway) == budget.requests  # the refused call was never sent
    assert cap <= budget.spent_usd == pytest.approx(cb.total_cost)
    assert caught.value.spent_usd == pytest.approx(budget.spent_usd)
    # the overshoot is the last call only (a sequential loop has one call in flight)
    assert budget.spent_usd - cap < budget.spent_usd / budget.requests * 2
    llm.close()


def test_create_agent_streaming_runaway_loop_is_stopped(replica: Replica) -> None:
    llm = _langchain_llm(replica, "aimlapi", "hermes-3-llama-3.1-70b")
    agent = create_agent(model=llm, tools=[get_weather], system_prompt=ALWAYS)
    tool_results: list[ToolMessage] = []

    def run() -> None:
        for message, _meta in agent.stream(
            {"messages": [{"role": "user", "content": "What is the weather in Oslo?"}]},
            {"recursion_limit": 10_000},
            stream_mode="messages",
        ):
            if isinstance(message, ToolMessage):
                tool_results.append(message)

    with get_hermes_usage_callback(max_cost_usd=0.0003) as cb, pytest.raises(BudgetExceededError):
        run()
    assert all("Oslo" in str(m.content) for m in tool_results)
    assert cb.budget is not None
    assert len(tool_results) == cb.budget.requests >= 2
    llm.close()


@pytest.mark.parametrize(
    ("gateway", "model"), [("apipie", "hermes-4-70b"), ("aimlapi", "hermes-3-llama-3.1-70b")]
)
def test_function_agent_runaway_loop_is_stopped(replica: Replica, gateway: str, model: str) -> None:
    calls: list[str] = []

    def weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return f"It is 21 degrees and sunny in {city}."

    llm = Hermes(
        model=model, gateway=gateway, base_url=replica.base_url(gateway), api_key=SECRET, tool_mode="native"
    )
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(weather, name="get_weather")], llm=llm, system_prompt=ALWAYS
    )

    async def run() -> None:
        with spending_cap(0.0004) as budget:
            with pytest.raises(BudgetExceededError):
                await agent.run("What is the weather in Rome?", max_iterations=10_000)
            assert budget.requests >= 2
            assert calls == ["Rome"] * budget.requests
            assert _chat_requests(replica, gateway) == budget.requests

    asyncio.run(run())
