"""No connection, task or thread is leaked after 1,000 faulty requests through one model object.

Per adapter: 500 sync calls (invoke and stream, some streams abandoned after the first chunk) and 500 async
calls (16 at a time, the same mix), against a fault queue that fails about half the attempts in every way the
replica can (5xx, 429, resets before headers and mid-stream, truncation, malformed chunks, HTML, 200 errors,
401). Every call must end whole or in a GatewayError; afterwards the process holds no more client connections
to the replica than the sync pool keeps alive, none once the model is closed, no extra asyncio task, no extra
thread (the replica's per-connection threads end with their connections), and no ResourceWarning.

Sockets are counted from /proc (see `_support.open_tcp_connections`): connections TO the replica's ports.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import threading
import time
import warnings
from typing import Any

import pytest

from hermes_gateway import GatewayError
from tests.replica import PASS, Fault, Replica

from ._support import DRIVERS, PROMPT, Driver, expected_reply, open_tcp_connections

CALLS_PER_PATH = 500
CONCURRENCY = 16
PATTERN: list[Fault] = [
    PASS,
    Fault.error(500),
    PASS,
    Fault.rate_limited(retry_after=0),
    Fault.reset(),
    PASS,
    Fault.reset(after=3),
    Fault.truncate(after=4),
    PASS,
    Fault.malformed(at=3),
    Fault.html(502),
    PASS,
    Fault.error_200("replica: upstream error"),
    Fault.error(401),
    Fault.error(503),
    PASS,
]
"""Half the attempts fail; faults that only affect streams pass a non-streamed call through."""


def _wait_for(condition: Any, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def _sync_call(driver: Driver, llm: Any, i: int, expected: str) -> str:
    """One call: invoke, a whole stream, or a stream abandoned after its first chunk."""
    if i % 3 == 2 and driver.name == "langchain":
        for chunk in llm.stream(PROMPT):
            assert expected.startswith(str(chunk.content))
            break
        return "abandoned"
    if i % 3 == 2:
        from llama_index.core.base.llms.types import ChatMessage

        for response in llm.stream_chat([ChatMessage(role="user", content=PROMPT)]):
            assert expected.startswith(response.message.content or "")
            break
        return "abandoned"
    outcome = driver.run(llm, ("sync", "invoke" if i % 3 == 0 else "stream"), [])
    assert outcome.text == expected
    assert outcome.usage_count == 1
    return "whole"


async def _async_call(driver: Driver, llm: Any, i: int, expected: str) -> str:
    if driver.name == "langchain":
        if i % 3 == 0:
            message = await llm.ainvoke(PROMPT)
            assert message.content == expected
            return "whole"
        text = ""
        async for chunk in llm.astream(PROMPT):
            text += str(chunk.content)
            if i % 3 == 2:
                return "abandoned"
        assert text == expected
        return "whole"
    from llama_index.core.base.llms.types import ChatMessage

    messages = [ChatMessage(role="user", content=PROMPT)]
    if i % 3 == 0:
        response = await llm.achat(messages)
        assert response.message.content == expected
        return "whole"
    responses = []
    async for response in await llm.astream_chat(messages):
        responses.append(response)
        if i % 3 == 2:
            return "abandoned"
    assert responses[-1].message.content == expected
    return "whole"


@pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
def test_no_leaks_after_1000_faulty_requests(replica: Replica, adapter: str) -> None:
    driver = DRIVERS[adapter]
    ports = {server.port for server in replica.servers.values()}
    expected = expected_reply("apipie").text
    gc.collect()  # unreferenced clients of earlier tests close their connections now, not during this test
    threads_before = threading.active_count()
    sockets_before = open_tcp_connections(ports)
    llm = driver.make(replica, max_retries=1)
    outcomes: dict[str, int] = {}

    def tally(result: str) -> None:
        outcomes[result] = outcomes.get(result, 0) + 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        replica.apipie.enqueue(*itertools.islice(itertools.cycle(PATTERN), 3 * CALLS_PER_PATH))
        for i in range(CALLS_PER_PATH):
            try:
                tally(_sync_call(driver, llm, i, expected))
            except GatewayError as exc:
                tally(type(exc).__name__)
        assert open_tcp_connections(ports) <= sockets_before + 1  # the sync pool's keep-alive connection

        async def main() -> int:
            semaphore = asyncio.Semaphore(CONCURRENCY)

            async def one(i: int) -> None:
                async with semaphore:
                    try:
                        tally(await _async_call(driver, llm, i, expected))
                    except GatewayError as exc:
                        tally(type(exc).__name__)

            await asyncio.gather(*(one(i) for i in range(CALLS_PER_PATH)))
            await asyncio.sleep(0.05)  # abandoned async generators are finalised by tasks of this loop
            return len(asyncio.all_tasks() - {asyncio.current_task()})

        replica.apipie.reset()
        replica.apipie.enqueue(*itertools.islice(itertools.cycle(PATTERN), 3 * CALLS_PER_PATH))
        assert asyncio.run(main()) == 0
        assert open_tcp_connections(ports) <= sockets_before + 1  # the loop's pool closed with the loop
        llm.close()
        assert _wait_for(lambda: open_tcp_connections(ports) <= sockets_before)
        assert _wait_for(lambda: threading.active_count() <= threads_before), threading.enumerate()
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
    assert sum(outcomes.values()) == 2 * CALLS_PER_PATH
    assert outcomes.get("whole", 0) >= CALLS_PER_PATH // 3, outcomes
    assert set(outcomes) - {"whole", "abandoned"}, "the faults produced no errors"
