"""500 concurrent async streams through ONE model object, against the replica.

`ChatHermes.astream` and `Hermes.astream_chat`: every stream gets its own prompt, so a reply that went to the
wrong caller, or lost or duplicated a chunk, shows up as a wrong text; each must be whole, carry usage
exactly once (on its last chunk) and end with finish_reason "stop". The replica runs in its own process;
memory is traced with tracemalloc while the streams run: the peak must stay under `PEAK_LIMIT_MB`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage

from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes

from ._support import KEY, MODEL, Expected, Outcome, expected_reply

STREAMS = 500
PEAK_LIMIT_MB = 64.0
"""tracemalloc peak for 500 concurrent streams, client side (measured: about 22 MB, most of it the chunks
the test itself keeps)."""


def prompt(i: int) -> str:
    return f"Question {i}: tell me about load test topic number {i}"


async def _langchain_stream(llm: Any, i: int) -> Outcome:
    chunks = [chunk async for chunk in llm.astream(prompt(i))]
    usage = [c.usage_metadata for c in chunks if c.usage_metadata is not None]
    return Outcome(
        text="".join(str(c.content) for c in chunks),
        usage_count=len(usage),
        completion_tokens=usage[-1]["output_tokens"] if usage else None,
        finish_reason=chunks[-1].response_metadata.get("finish_reason"),
    )


async def _llamaindex_stream(llm: Any, i: int) -> Outcome:
    responses = [r async for r in await llm.astream_chat([ChatMessage(role="user", content=prompt(i))])]
    usage = [r.raw["usage"] for r in responses if r.raw and r.raw.get("usage")]
    assert "".join(r.delta or "" for r in responses) == responses[-1].message.content
    return Outcome(
        text=responses[-1].message.content or "",
        usage_count=len(usage),
        completion_tokens=usage[-1]["completion_tokens"] if usage else None,
        finish_reason=(responses[-1].raw or {}).get("finish_reason"),
    )


STREAMERS = {"langchain": _langchain_stream, "llamaindex": _llamaindex_stream}


@pytest.fixture(scope="module")
def replica_process() -> Iterator[str]:
    """The replica in its own process (`python -m tests.replica`): its threads neither share this process's
    GIL nor show up in tracemalloc, so the peak measured is the client side's. Yields the APIpie base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.replica", "--dialect", "apipie"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield str(json.loads(process.stdout.readline())["apipie"])
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("adapter", ["langchain", "llamaindex"])
def test_500_concurrent_streams_through_one_model(replica_process: str, adapter: str) -> None:
    expected: list[Expected] = [expected_reply("apipie", prompt(i)) for i in range(STREAMS)]
    assert len({e.text for e in expected}) == STREAMS
    kw: dict[str, Any] = {"model": MODEL, "api_key": KEY, "base_url": replica_process, "timeout": 30.0}
    llm: Any = ChatHermes(**kw) if adapter == "langchain" else Hermes(**kw)
    streamer = STREAMERS[adapter]

    async def main() -> list[Outcome]:
        return await asyncio.gather(*(streamer(llm, i) for i in range(STREAMS)))

    tracemalloc.start()
    try:
        started = time.perf_counter()
        outcomes = asyncio.run(main())
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        llm.close()
    wrong = [i for i, (o, e) in enumerate(zip(outcomes, expected, strict=True)) if o.text != e.text]
    assert wrong == []
    assert all(o.usage_count == 1 for o in outcomes)
    assert [o.completion_tokens for o in outcomes] == [e.completion_tokens for e in expected]
    assert all(o.finish_reason == "stop" for o in outcomes)
    peak_mb = peak / 1e6
    print(
        f"\n{adapter}: {STREAMS} streams in {elapsed:.2f}s ({STREAMS / elapsed:.0f}/s), peak {peak_mb:.1f} MB"
    )
    assert peak_mb < PEAK_LIMIT_MB
