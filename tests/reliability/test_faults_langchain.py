"""ChatHermes under injected gateway faults: invoke/ainvoke/stream/astream, every case of `FAULT_CASES`.

Each call ends with the whole reply (usage once, finish_reason "stop") after safe retries, or in a typed
`hermes_gateway.GatewayError` carrying the gateway's message; a cut stream raises instead of ending quietly,
and no call may hang (each runs under a watchdog). The LangChain-specific cases below: `streaming=True`
under invoke, callbacks seeing the failure, and batches.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage

from hermes_gateway import APITimeoutError, GatewayError, StreamInterruptedError
from tests.replica import PASS, Fault, Replica

from ._support import DRIVERS, Case, bounded, case_params, check_fault_case, expected_reply

DRIVER = DRIVERS["langchain"]


@pytest.mark.parametrize(("case", "mode"), case_params())
def test_fault(replica: Replica, case: Case, mode: tuple[str, str]) -> None:
    check_fault_case(DRIVER, replica, case, mode)


CUTS = [
    pytest.param(Fault.truncate(after=4), StreamInterruptedError, id="truncated"),
    pytest.param(Fault.reset(after=3), StreamInterruptedError, id="reset"),
    pytest.param(Fault.stall(after=2, seconds=1.0), APITimeoutError, id="stall"),
]


@pytest.mark.parametrize("how", ["sync", "async"])
@pytest.mark.parametrize(("fault", "error"), CUTS)
def test_streaming_true_invoke_raises_instead_of_returning_a_cut_reply(
    replica: Replica, how: str, fault: Fault, error: type[GatewayError]
) -> None:
    """`streaming=True` makes invoke stream and add the chunks up: a cut must not become a short AIMessage."""
    llm = DRIVER.make(replica, streaming=True, timeout=0.25, max_retries=1)
    try:
        replica.apipie.enqueue(fault, PASS)
        with pytest.raises(error):
            bounded(lambda: llm.invoke("Hi") if how == "sync" else asyncio.run(llm.ainvoke("Hi")))
        assert len(replica.apipie.requests) == 1
        # The same model object is fine afterwards.
        message = bounded(lambda: llm.invoke("Hi"))
        assert message.content == expected_reply("apipie").text
    finally:
        llm.close()


class Events(BaseCallbackHandler):
    """Records which run callbacks fired."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.errors: list[BaseException] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.events.append("start")

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.events.append("end")

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.events.append("error")
        self.errors.append(error)


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_cut_stream_reports_an_error_to_callbacks_not_a_success(replica: Replica, how: str) -> None:
    llm = DRIVER.make(replica)
    handler = Events()
    config: Any = {"callbacks": [handler]}
    try:
        replica.apipie.enqueue(Fault.truncate(after=4))

        def run() -> None:
            if how == "sync":
                for _ in llm.stream("Hi", config=config):
                    pass
            else:

                async def consume() -> None:
                    async for _ in llm.astream("Hi", config=config):
                        pass

                asyncio.run(consume())

        with pytest.raises(StreamInterruptedError):
            bounded(run)
        assert handler.events == ["start", "error"]
        assert isinstance(handler.errors[0], StreamInterruptedError)
    finally:
        llm.close()


@pytest.mark.parametrize("how", ["sync", "async"])
def test_batch_with_faults_returns_whole_replies_or_typed_errors(replica: Replica, how: str) -> None:
    """Eight concurrent calls share one fault queue: each ends whole or in a typed error, never in part."""
    llm = DRIVER.make(replica, max_retries=1)
    try:
        replica.apipie.enqueue(
            Fault.error(500),
            Fault.reset(),
            Fault.error_200("replica: upstream"),
            Fault.error(503),
            Fault.rate_limited(retry_after=0),
            Fault.error(502),
            Fault.error(500),
            Fault.error(500),
        )
        prompts = ["Hi"] * 8
        results: list[AIMessage | Exception] = bounded(
            lambda: (
                llm.batch(prompts, return_exceptions=True)
                if how == "sync"
                else asyncio.run(llm.abatch(prompts, return_exceptions=True))
            )
        )
        expected = expected_reply("apipie").text
        for result in results:
            if isinstance(result, Exception):
                assert isinstance(result, GatewayError), repr(result)
            else:
                assert result.content == expected
        failures = sum(isinstance(r, Exception) for r in results)
        # The 8 faults go to the first 8 attempts: each causes a retry, or fails a call already retried.
        assert failures <= 4
        assert len(replica.apipie.requests) == 16 - failures
        assert replica.apipie.pending == 0
    finally:
        llm.close()
