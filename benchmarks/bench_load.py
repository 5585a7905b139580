"""Many concurrent streams through one model object: throughput and the client's added latency vs raw httpx.

The replica gateway runs in its own process (`python -m tests.replica`, so it never takes the measured
client's GIL) and streams the same reply of `--chunks` content chunks (`x-replica-chunks` header) to every
request. For each N in `--streams`, each contender opens N streams at once in one event loop and reads them
to the end; repetitions are interleaved (raw, core, langchain, llamaindex, raw, ...) and medians reported.

- raw:        one httpx.AsyncClient with the client's pool limits, `json.loads` of every `data:` line — the
              least any client must do
- core:       `hermes_gateway.GatewayClient.astream` (SSE state machine, chunk → ChatDelta, usage, retries)
- langchain:  `ChatHermes.astream` (one model object; LangChain callbacks and chunk merging included)
- llamaindex: `Hermes.astream_chat` (one model object; LlamaIndex callbacks and instrumentation included)

Reported per contender: streams/s (N / wall time of the batch), the median and p95 of one stream's time
from its start to its last chunk, and "added" = its median minus raw's median at the same N — the latency
the library adds to each stream under that load.

    python benchmarks/bench_load.py [--streams 100,500] [--chunks 50] [--reps 3] [--json]

Note: at a few hundred concurrent streams the single-process Python replica is the bottleneck for every
contender alike (raw httpx included); compare contenders with each other, not with a production gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from llama_index.core.base.llms.types import ChatMessage
from pydantic import SecretStr

from hermes_gateway import GatewayClient, resolve_model_id
from hermes_gateway._constants import MAX_CONNECTIONS, MAX_KEEPALIVE_CONNECTIONS
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes

MODEL = "hermes-3-llama-3.1-70b"
KEY = "bench-key-not-a-secret"
PROMPT = "Hi"
StreamFn = Callable[[], Awaitable[int]]


def start_replica() -> tuple[subprocess.Popen[str], str]:
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.replica", "--dialect", "apipie"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, str(json.loads(process.stdout.readline())["apipie"])


class Contenders:
    """One object per contender, reused across every stream and repetition (as an application would)."""

    def __init__(self, base_url: str, chunks: int) -> None:
        headers = {"x-replica-chunks": str(chunks)}
        self.base_url = base_url
        self.chunks = chunks
        self.headers = {**headers, "Authorization": f"Bearer {KEY}", "Accept": "text/event-stream"}
        self.body = {
            "model": resolve_model_id(MODEL, "apipie"),
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        self.core = GatewayClient("apipie", api_key=KEY, base_url=base_url, default_headers=headers)
        self.chat = ChatHermes(
            model=MODEL, api_key=SecretStr(KEY), base_url=base_url, default_headers=headers
        )
        self.llm = Hermes(model=MODEL, api_key=KEY, base_url=base_url, default_headers=headers)
        self.raw_client: httpx.AsyncClient | None = None

    def runners(self) -> dict[str, StreamFn]:
        return {"raw": self.raw, "core": self.core_stream, "langchain": self.lc, "llamaindex": self.li}

    async def raw(self) -> int:
        if self.raw_client is None:
            self.raw_client = httpx.AsyncClient(
                timeout=60.0,
                limits=httpx.Limits(
                    max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
                ),
            )
        url = f"{self.base_url}/chat/completions"
        count = 0
        async with self.raw_client.stream("POST", url, json=self.body, headers=self.headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    chunk = json.loads(line[5:])
                    count += bool(chunk.get("choices") and chunk["choices"][0]["delta"].get("content"))
        return count

    async def core_stream(self) -> int:
        request: Any = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
        async with self.core.astream(request) as stream:
            return sum([1 async for delta in stream if delta.content])

    async def lc(self) -> int:
        return sum([1 async for chunk in self.chat.astream(PROMPT) if chunk.content])

    async def li(self) -> int:
        messages = [ChatMessage(role="user", content=PROMPT)]
        return sum([1 async for response in await self.llm.astream_chat(messages) if response.delta])

    async def aclose(self) -> None:
        if self.raw_client is not None:
            await self.raw_client.aclose()
            self.raw_client = None
        await self.core.aclose()
        await self.chat.aclose()
        await self.llm.aclose()


async def batch(fn: StreamFn, streams: int, chunks: int) -> tuple[float, list[float]]:
    """N streams at once: (wall seconds, each stream's seconds from start to its last chunk)."""

    async def one() -> float:
        started = time.perf_counter()
        got = await fn()
        if got < chunks:
            raise RuntimeError(f"a stream delivered {got} of {chunks} content chunks")
        return time.perf_counter() - started

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one() for _ in range(streams)))
    return time.perf_counter() - started, list(latencies)


async def measure(base_url: str, streams: list[int], chunks: int, reps: int) -> list[dict[str, Any]]:
    contenders = Contenders(base_url, chunks)
    rows: list[dict[str, Any]] = []
    try:
        runners = contenders.runners()
        for fn in runners.values():  # warm-up: pools, imports, first-call caches
            await batch(fn, 4, chunks)
        for n in streams:
            walls: dict[str, list[float]] = {name: [] for name in runners}
            latencies: dict[str, list[float]] = {name: [] for name in runners}
            for _ in range(reps):
                for name, fn in runners.items():
                    wall, each = await batch(fn, n, chunks)
                    walls[name].append(wall)
                    latencies[name].extend(each)
            raw_median = statistics.median(latencies["raw"])
            for name in runners:
                ordered = sorted(latencies[name])
                median = statistics.median(ordered)
                rows.append(
                    {
                        "streams": n,
                        "contender": name,
                        "streams_per_s": n / statistics.median(walls[name]),
                        "median_ms": median * 1000,
                        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
                        "added_ms": (median - raw_median) * 1000,
                    }
                )
    finally:
        await contenders.aclose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", default="100,500", help="comma-separated concurrency levels")
    parser.add_argument("--chunks", type=int, default=50, help="content chunks per streamed reply")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    streams = [int(n) for n in args.streams.split(",")]
    process, base_url = start_replica()
    try:
        rows = asyncio.run(measure(base_url, streams, args.chunks, args.reps))
    finally:
        process.terminate()
        process.wait(timeout=10)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{args.chunks} content chunks per stream, {args.reps} interleaved repetitions, medians")
    print(f"{'N':>5} {'contender':<11} {'streams/s':>10} {'median ms':>10} {'p95 ms':>9} {'added ms':>9}")
    for row in rows:
        print(
            f"{row['streams']:>5} {row['contender']:<11} {row['streams_per_s']:>10.1f}"
            f" {row['median_ms']:>10.1f} {row['p95_ms']:>9.1f} {row['added_ms']:>+9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
