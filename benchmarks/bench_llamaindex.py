"""Streaming overhead of `llamaindex_hermes.Hermes` against raw httpx and LlamaIndex's `OpenAILike`.

One run, one loopback server streaming the same 1000-chunk SSE reply to every contender, repetitions
interleaved (raw, Hermes, OpenAILike, raw, Hermes, ...) so that machine noise hits all three alike:

- raw:        httpx streaming + `json.loads` of every `data:` line (no framework at all)
- core:       `hermes_gateway.GatewayClient.stream` alone (the shared client, no LlamaIndex)
- hermes:     `Hermes.stream_chat` (gateway="openai" → this server), every `ChatResponse` consumed
- openailike: `OpenAILike.stream_chat` (llama-index-llms-openai-like) on the same server
- li_floor:   LlamaIndex's own per-chunk cost, no I/O: an LLM whose `@llm_chat_callback` stream_chat yields
              the same number of ready-made `ChatResponse`s (the instrumentation event per chunk)

The server runs in its own process and writes each SSE event as its own HTTP chunk, as a streaming server
does (`--burst` sends the whole reply in one write instead: the client-bound worst case for ratios).

Every repetition starts after a `gc.collect()` (outside the clock), so no contender pays for collections
another one's objects made due; the collector's time inside each run is recorded (`gc.callbacks`) and
shown. `--chunks 10000` checks linearity: LlamaIndex keeps no chunk (only the last response), so nothing
piles up for the collector, but every `ChatResponse` carries the whole text so far (`message.content`),
a new string per chunk: that copy is quadratic in the reply length by LlamaIndex's contract (OpenAILike
makes it too) and small next to the rest until replies reach tens of thousands of chunks.

Targets (issue 4): hermes <= 3x raw, and openailike / hermes >= 4.

    python benchmarks/bench_llamaindex.py [--chunks 1000] [--reps 15] [--burst] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import socket
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import httpx
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.llms.callbacks import llm_chat_callback
from llama_index.core.llms.custom import CustomLLM

from hermes_gateway import ChatRequest, GatewayClient
from llamaindex_hermes import Hermes

MODEL = "hermes-3-llama-3.1-70b"


def sse_events(chunks: int) -> list[bytes]:
    """An OpenAI-style stream: `chunks` content deltas, a finish chunk, a usage chunk, [DONE]."""
    head = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
    lines = []
    for i in range(chunks):
        delta: dict[str, object] = {"content": f"tok{i} "}
        if i == 0:
            delta["role"] = "assistant"
        event = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        lines.append(f"data: {json.dumps(event)}\n\n")
    lines.append(
        f"data: {json.dumps({**head, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n"
    )
    usage = {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks}
    lines.append(f"data: {json.dumps({**head, 'choices': [], 'usage': usage})}\n\n")
    lines.append("data: [DONE]\n\n")
    return [line.encode() for line in lines]


def serve(events: list[bytes], burst: bool = False) -> ThreadingHTTPServer:
    """A loopback server that streams `events` as a real SSE server does: one HTTP chunk (one write) each;
    with `burst`, all of them in one write."""
    frames = [b"%x\r\n%s\r\n" % (len(event), event) for event in events] + [b"0\r\n\r\n"]
    if burst:
        frames = [b"".join(frames)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for frame in frames:
                self.wfile.write(frame)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def _serve_forever(chunks: int, burst: bool, port_out: Connection) -> None:
    server = serve(sse_events(chunks), burst)
    port_out.send(server.server_address[1])
    server.serve_forever()


def start_server(chunks: int, burst: bool = False) -> tuple[multiprocessing.Process, str]:
    """The server runs in its own process, so it never competes with the measured client for the GIL."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_serve_forever, args=(chunks, burst, send), daemon=True)
    process.start()
    port = receive.recv()
    return process, f"http://127.0.0.1:{port}/v1"


def contenders(base_url: str, chunks: int) -> dict[str, Callable[[], int]]:
    messages = [ChatMessage(role="user", content="Count.")]
    raw_client = httpx.Client(timeout=60)
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}], "stream": True}

    def raw() -> int:
        n = 0
        with raw_client.stream("POST", f"{base_url}/chat/completions", json=payload) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    n += 1
        return n

    hermes = Hermes(model=MODEL, gateway="openai", base_url=base_url, api_key="bench")
    core_client = GatewayClient("openai", base_url=base_url, api_key="bench")
    core_request: ChatRequest = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}]}

    def core() -> int:
        with core_client.stream(core_request) as stream:
            return sum(1 for _ in stream)

    def run_hermes() -> int:
        return sum(1 for _ in hermes.stream_chat(messages))

    floor = _FloorLLM(chunks=chunks + 1)

    def li_floor() -> int:
        return sum(1 for _ in floor.stream_chat(messages))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from llama_index.llms.openai_like import OpenAILike  # type: ignore[import-untyped]  # no py.typed

        openailike = OpenAILike(
            model=MODEL, api_base=base_url, api_key="bench", is_chat_model=True, context_window=131072
        )

    def run_openailike() -> int:
        return sum(1 for _ in openailike.stream_chat(messages))

    return {
        "raw": raw,
        "core": core,
        "hermes": run_hermes,
        "openailike": run_openailike,
        "li_floor": li_floor,
    }


class _FloorLLM(CustomLLM):
    """Yields `chunks` prebuilt ChatResponses through `@llm_chat_callback`: LlamaIndex's per-chunk cost."""

    chunks: int = 1000
    _responses: list[ChatResponse] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any) -> None:
        self._responses = [
            ChatResponse(message=ChatMessage(role="assistant", content=f"tok{i} "), delta=f"tok{i} ")
            for i in range(self.chunks)
        ]

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(is_chat_model=True)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            yield from self._responses

        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        raise NotImplementedError

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        raise NotImplementedError


class _CollectorClock:
    """Adds up the time the cyclic garbage collector runs, via `gc.callbacks`."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--burst", action="store_true", help="the server sends the reply in one write")
    parser.add_argument("--profile", action="store_true", help="cProfile Hermes.stream_chat instead")
    args = parser.parse_args(argv)

    server, base_url = start_server(args.chunks, args.burst)
    runs = contenders(base_url, args.chunks)
    for fn in runs.values():  # warm up: connections, imports, caches
        fn()
    if args.profile:
        import cProfile
        import pstats

        cProfile.runctx("for _ in range(5): fn()", {"fn": runs["hermes"]}, {}, "/tmp/bench_llamaindex.prof")
        pstats.Stats("/tmp/bench_llamaindex.prof").sort_stats("cumulative").print_stats(35)
        return 0

    times: dict[str, list[float]] = {name: [] for name in runs}
    gc_times: dict[str, list[float]] = {name: [] for name in runs}
    clock = _CollectorClock()
    gc.callbacks.append(clock)
    for _ in range(args.reps):
        for name, fn in runs.items():
            gc.collect()
            clock.total = 0.0
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
            gc_times[name].append(clock.total * 1000)
    gc.callbacks.remove(clock)
    server.terminate()

    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.chunks} chunks, {args.reps} interleaved repetitions (ms: median / min / max; collector ms)")
    for name, values in times.items():
        print(
            f"  {name:<11} {med[name]:8.2f} {min(values):8.2f} {max(values):8.2f}"
            f"   gc {statistics.median(gc_times[name]):6.2f}"
        )
    per_chunk = {name: med[name] * 1000 / args.chunks for name in ("hermes", "raw")}
    print(f"  per chunk: hermes {per_chunk['hermes']:.2f} us, raw {per_chunk['raw']:.2f} us")
    hermes_vs_raw = med["hermes"] / med["raw"]
    openai_vs_hermes = med["openailike"] / med["hermes"]
    mode = "burst (one write)" if args.burst else "one write per event"
    print(f"server: {mode}")
    print(f"Hermes / raw httpx             = {hermes_vs_raw:.2f}x  (target <= 3)")
    print(f"OpenAILike / Hermes            = {openai_vs_hermes:.2f}x  (target >= 4)")
    print(f"core client / raw httpx        = {med['core'] / med['raw']:.2f}x")
    print(f"Hermes / (core + li_floor)     = {med['hermes'] / (med['core'] + med['li_floor']):.2f}x")
    ok = hermes_vs_raw <= 3 and openai_vs_hermes >= 4
    print("PASS" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
