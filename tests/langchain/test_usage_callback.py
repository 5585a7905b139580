"""get_hermes_usage_callback (and core's get_usage_metadata_callback) over invoke, stream, async, batches."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from pydantic import SecretStr

from langchain_hermes import ChatHermes, HermesUsageCallbackHandler, get_hermes_usage_callback
from tests.replica import Fault, Replica


@pytest.fixture
def llms(replica: Replica) -> Iterator[dict[str, ChatHermes]]:
    made = {
        "apipie": ChatHermes(
            model="hermes-3-llama-3.1-70b",
            gateway="apipie",
            base_url=replica.base_url("apipie"),
            api_key=SecretStr("k" * 20),
        ),
        "aimlapi": ChatHermes(
            model="hermes-4-70b",
            gateway="aimlapi",
            base_url=replica.base_url("aimlapi"),
            api_key=SecretStr("k" * 20),
        ),
    }
    yield made
    for llm in made.values():
        llm.close()


def _expected(messages: list[Any]) -> tuple[int, int, int, float]:
    usages = [m.usage_metadata for m in messages]
    costs = [m.response_metadata["cost_usd"] for m in messages]
    return (
        sum(u["input_tokens"] for u in usages),
        sum(u["output_tokens"] for u in usages),
        sum(u["total_tokens"] for u in usages),
        sum(costs),
    )


def _totals(cb: HermesUsageCallbackHandler) -> tuple[int, int, int, float]:
    return (cb.prompt_tokens, cb.completion_tokens, cb.total_tokens, cb.total_cost)


def test_sync_invoke_and_stream_per_model(llms: dict[str, ChatHermes]) -> None:
    with get_hermes_usage_callback() as cb:
        a = llms["apipie"].invoke("Hello")
        full = None
        for chunk in llms["aimlapi"].stream("Write me 2 haikus."):
            full = chunk if full is None else full + chunk
    assert isinstance(full, AIMessage)
    assert cb.successful_requests == 2
    assert _totals(cb) == pytest.approx(_expected([a, full]))
    assert cb.total_cost > 0
    assert set(cb.by_model) == {"hermes-3-llama-3.1-70b", "hermes-4-70b"}
    assert cb.by_model["hermes-4-70b"].total_tokens == full.usage_metadata["total_tokens"]  # type: ignore[index]
    assert cb.by_model["hermes-4-70b"].successful_requests == 1
    assert "Total Cost (USD)" in repr(cb)
    llms["apipie"].invoke("Hello")  # after the block: not counted
    assert cb.successful_requests == 2


async def test_async_invoke_stream_and_gather(llms: dict[str, ChatHermes]) -> None:
    with get_hermes_usage_callback() as cb:
        results = await asyncio.gather(*(llms["apipie"].ainvoke(f"Question {i}") for i in range(5)))
        streamed = None
        async for chunk in llms["aimlapi"].astream("Hello"):
            streamed = chunk if streamed is None else streamed + chunk
    assert cb.successful_requests == 6
    assert _totals(cb) == pytest.approx(_expected([*results, streamed]))
    assert cb.by_model["hermes-3-llama-3.1-70b"].successful_requests == 5


def test_concurrent_threads_and_batch(llms: dict[str, ChatHermes]) -> None:
    replies: list[Any] = []
    lock = threading.Lock()
    with get_hermes_usage_callback() as cb:
        batch = llms["apipie"].batch([f"Topic {i}" for i in range(8)], config={"max_concurrency": 4})

        def work(i: int) -> None:
            reply = llms["aimlapi"].invoke(f"Thread {i}")
            with lock:
                replies.append(reply)

        # A plain thread does not inherit the block's ContextVar; run each in a copy of the context, as
        # LangChain's own executors do.
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, i)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert cb.by_model["hermes-3-llama-3.1-70b"].successful_requests == 8
    assert cb.by_model["hermes-4-70b"].successful_requests == 6
    assert cb.successful_requests == 14
    assert _totals(cb) == pytest.approx(_expected([*batch, *replies]))


def test_handler_is_thread_safe_under_contention() -> None:
    handler = HermesUsageCallbackHandler()
    message = AIMessage(
        "x",
        usage_metadata={"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
        response_metadata={"model_name": "m", "cost_usd": 0.25},
    )
    result = LLMResult(generations=[[ChatGeneration(message=message)]])

    def hammer() -> None:
        for _ in range(500):
            handler.on_llm_end(result)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handler.successful_requests == 4000
    assert handler.total_tokens == 20000
    assert handler.total_cost == pytest.approx(1000.0)
    assert handler.by_model["m"].prompt_tokens == 12000


def test_unknown_cost_is_none_safe(llms: dict[str, ChatHermes], replica: Replica) -> None:
    replica.apipie.enqueue(
        Fault.script_chunks(
            [
                {
                    "id": "x",
                    "object": "chat.completion",
                    "model": "some-new-model",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "hi"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5},
                }
            ]
        )
    )
    with get_hermes_usage_callback() as cb:
        msg = llms["apipie"].invoke("Hello", model="some-new-model")
    assert msg.response_metadata["cost_usd"] is None
    assert (cb.total_tokens, cb.total_cost, cb.requests_without_cost) == (5, 0.0, 1)
    assert cb.by_model["some-new-model"].requests_without_cost == 1


def test_nested_blocks_roll_up(llms: dict[str, ChatHermes]) -> None:
    with get_hermes_usage_callback() as outer:
        first = llms["apipie"].invoke("Hello")
        with get_hermes_usage_callback() as inner:
            second = llms["aimlapi"].invoke("Hello")
    assert inner.successful_requests == 1
    assert outer.successful_requests == 2
    assert _totals(inner) == pytest.approx(_expected([second]))
    assert _totals(outer) == pytest.approx(_expected([first, second]))


def test_core_usage_metadata_callback_works_unchanged(llms: dict[str, ChatHermes]) -> None:
    with get_usage_metadata_callback() as cb:
        a = llms["apipie"].invoke("Hello")
        streamed = None
        for chunk in llms["apipie"].stream("Hello"):
            streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None
    usage = cb.usage_metadata["hermes-3-llama-3.1-70b"]
    assert usage["total_tokens"] == a.usage_metadata["total_tokens"] + streamed.usage_metadata["total_tokens"]  # type: ignore[index]
