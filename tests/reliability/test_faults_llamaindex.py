"""LlamaIndex `Hermes` under injected gateway faults: chat/achat/stream_chat/astream_chat, every case of
`FAULT_CASES`, plus the completion entry points and the instrumentation/callback view of a failure.

Each call ends with the whole reply (usage once, finish_reason "stop") after safe retries, or in a typed
`hermes_gateway.GatewayError` carrying the gateway's message; a cut stream raises, and nothing hangs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler

from hermes_gateway import StreamInterruptedError
from tests.replica import PASS, Fault, Replica

from ._support import DRIVERS, Case, bounded, case_params, check_fault_case, expected_reply

DRIVER = DRIVERS["llamaindex"]


@pytest.mark.parametrize(("case", "mode"), case_params())
def test_fault(replica: Replica, case: Case, mode: tuple[str, str]) -> None:
    check_fault_case(DRIVER, replica, case, mode)


@pytest.mark.parametrize("how", ["sync", "async"])
def test_streamed_completion_that_is_cut_raises(replica: Replica, how: str) -> None:
    """`stream_complete` / `astream_complete` go through LlamaIndex's decorators: the error must get out."""
    llm = DRIVER.make(replica)
    texts: list[str] = []
    try:
        replica.apipie.enqueue(Fault.truncate(after=4), PASS)

        def run() -> None:
            if how == "sync":
                for response in llm.stream_complete("Hi"):
                    texts.append(response.text)
            else:

                async def consume() -> None:
                    async for response in await llm.astream_complete("Hi"):
                        texts.append(response.text)

                asyncio.run(consume())

        with pytest.raises(StreamInterruptedError):
            bounded(run)
        assert texts
        assert expected_reply("apipie").text.startswith(texts[-1])
        assert len(replica.apipie.requests) == 1
    finally:
        llm.close()


class Recorder(BaseCallbackHandler):
    """Keeps every LLM event's payload."""

    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.ends: list[dict[str, Any]] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        if event_type == CBEventType.LLM:
            self.ends.append(dict(payload or {}))

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        return None


@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_cut_stream_ends_its_callback_event_with_the_exception(replica: Replica, how: str) -> None:
    recorder = Recorder()
    llm = DRIVER.make(replica, callback_manager=CallbackManager([recorder]))
    try:
        replica.apipie.enqueue(Fault.reset(after=3))
        from llama_index.core.base.llms.types import ChatMessage

        messages = [ChatMessage(role="user", content="Hi")]

        def run() -> None:
            if how == "sync":
                for _ in llm.stream_chat(messages):
                    pass
            else:

                async def consume() -> None:
                    async for _ in await llm.astream_chat(messages):
                        pass

                asyncio.run(consume())

        with pytest.raises(StreamInterruptedError):
            bounded(run)
        assert len(recorder.ends) == 1
        assert isinstance(recorder.ends[0].get(EventPayload.EXCEPTION), StreamInterruptedError)
        assert EventPayload.RESPONSE not in recorder.ends[0]
    finally:
        llm.close()
