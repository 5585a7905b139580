"""One command for the side-by-side benchmarks: writes benchmarks/RESULTS.md and benchmarks/results.png.

    python benchmarks/run_all.py [--reps 9] [--concurrency 32] [--quick]

Contenders, all against ONE loopback server (its own process, so it never takes the client's GIL), which
answers `/c<N>/v1/chat/completions` with an N-chunk OpenAI-style SSE stream (one write per event, as a
streaming server does) or, without `stream`, one N-token completion:

- raw httpx:  httpx + `json.loads` of every `data:` line — the least any client must do
- core:       `hermes_gateway.GatewayClient` alone (no framework)
- ChatHermes / ChatOpenAI (langchain-openai):  `.stream()` / `.invoke()` / `.astream()`
- Hermes / OpenAILike (llama-index-llms-openai-like):  `.stream_chat()` / `.chat()` / `.astream_chat()`

Scenarios: invoke (a 1000-token completion), sync streams of 1000 and 10000 chunks, and async concurrency
(`--concurrency` streams of 1000 chunks at once under asyncio.gather; the time for the whole batch).
Repetitions are interleaved (every contender once per round, the order rotated each round) so machine
noise hits all alike; each starts after `gc.collect()` (outside the clock) and the cyclic collector's time
inside it is recorded (`gc.callbacks`), so the per-chunk linearity line can leave out the collector, whose
cost grows with everything LangChain keeps alive rather than with our work; medians are reported, with
ratios against raw httpx and between each framework's stock OpenAI client and ours. The payload builders
(`sse_events`, `completion_body`) and the sync stream contenders come from bench_langchain.py and
bench_llamaindex.py.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import importlib.metadata
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import bench_langchain  # noqa: E402  # sibling script: payload builders and LangChain contenders
import bench_llamaindex  # noqa: E402  # sibling script: LlamaIndex contenders

from hermes_gateway import ChatRequest, GatewayClient  # noqa: E402

MODEL = bench_langchain.MODEL
INVOKE_TOKENS = 1000
STREAM_SIZES = (1000, 10000)
Runner = Callable[[], object]


# ---- the server ---------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    """A listen backlog for the async row's simultaneous connects (the default, 5, resets some)."""


def serve(sizes: tuple[int, ...]) -> ThreadingHTTPServer:
    """`/c<N>/v1/chat/completions`: an N-chunk stream (one write per event) or an N-token completion."""
    frames = {
        n: [b"%x\r\n%s\r\n" % (len(e), e) for e in bench_langchain.sse_events(n)] + [b"0\r\n\r\n"]
        for n in sizes
    }
    completions = {n: bench_langchain.completion_body(n) for n in sizes}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            n = int(self.path.split("/")[1][1:])
            request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            self.send_response(200)
            if not request.get("stream"):
                body = completions[n]
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for frame in frames[n]:
                self.wfile.write(frame)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return _Server(("127.0.0.1", 0), Handler)


def _serve_forever(sizes: tuple[int, ...], port_out: Connection) -> None:
    server = serve(sizes)
    port_out.send(server.server_address[1])
    server.serve_forever()


def start_server(sizes: tuple[int, ...]) -> tuple[multiprocessing.Process, str]:
    """The server's root URL; `<root>/c<N>/v1` is the base URL for N chunks."""
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_serve_forever, args=(sizes, send), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{receive.recv()}"


# ---- contenders ----------------------------------------------------------------------------------------
def _openai_models(base_url: str) -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langchain_openai import ChatOpenAI
        from llama_index.llms.openai_like import OpenAILike  # type: ignore[import-untyped]

        chat_openai = ChatOpenAI(model=MODEL, base_url=base_url, api_key="bench", max_retries=0)  # type: ignore[arg-type]
        openailike = OpenAILike(
            model=MODEL, api_base=base_url, api_key="bench", is_chat_model=True, context_window=131072
        )
    return chat_openai, openailike


def _hermes_models(base_url: str) -> tuple[Any, Any]:
    from pydantic import SecretStr

    from langchain_hermes import ChatHermes
    from llamaindex_hermes import Hermes

    chat_hermes = ChatHermes(
        model=MODEL, gateway="openai", base_url=base_url, api_key=SecretStr("bench"), max_retries=0
    )
    hermes = Hermes(model=MODEL, gateway="openai", base_url=base_url, api_key="bench", max_retries=0)
    return chat_hermes, hermes


def stream_contenders(base_url: str, chunks: int) -> dict[str, Runner]:
    """The sync streams, from the two framework benchmarks (renamed to one vocabulary)."""
    lc_streams, _, _ = bench_langchain.contenders(base_url, chunks)
    li = bench_llamaindex.contenders(base_url, chunks)
    return {
        "raw httpx": lc_streams["raw"],
        "core": li["core"],
        "ChatHermes": lc_streams["hermes"],
        "ChatOpenAI": lc_streams["openai"],
        "Hermes": li["hermes"],
        "OpenAILike": li["openailike"],
    }


def invoke_contenders(base_url: str) -> dict[str, Runner]:
    from llama_index.core.base.llms.types import ChatMessage

    http = httpx.Client(timeout=60)
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}]}
    core = GatewayClient("openai", base_url=base_url, api_key="bench", max_retries=0)
    request: ChatRequest = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}]}
    chat_hermes, hermes = _hermes_models(base_url)
    chat_openai, openailike = _openai_models(base_url)
    messages = [ChatMessage(role="user", content="Count.")]
    return {
        "raw httpx": lambda: json.loads(http.post(f"{base_url}/chat/completions", json=payload).content),
        "core": lambda: core.chat(request),
        "ChatHermes": lambda: chat_hermes.invoke("Count."),
        "ChatOpenAI": lambda: chat_openai.invoke("Count."),
        "Hermes": lambda: hermes.chat(messages),
        "OpenAILike": lambda: openailike.chat(messages),
    }


def async_contenders(base_url: str, concurrency: int) -> dict[str, Callable[[], Awaitable[object]]]:
    """Each runs `concurrency` streams at once; every client is created inside the running loop."""
    from llama_index.core.base.llms.types import ChatMessage

    messages = [ChatMessage(role="user", content="Count.")]
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "Count."}], "stream": True}

    async def gather(one: Callable[[], Awaitable[int]]) -> int:
        return sum(await asyncio.gather(*(one() for _ in range(concurrency))))

    async def raw() -> int:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=None)) as http:

            async def one() -> int:
                n = 0
                async with http.stream("POST", f"{base_url}/chat/completions", json=payload) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: ") and line != "data: [DONE]":
                            json.loads(line[6:])
                            n += 1
                return n

            return await gather(one)

    async def chat_hermes() -> int:
        model, _ = _hermes_models(base_url)

        async def one() -> int:
            return len([c async for c in model.astream("Count.")])

        try:
            return await gather(one)
        finally:
            await model.aclose()

    async def chat_openai() -> int:
        model, _ = _openai_models(base_url)

        async def one() -> int:
            return len([c async for c in model.astream("Count.")])

        return await gather(one)

    async def hermes() -> int:
        _, model = _hermes_models(base_url)

        async def one() -> int:
            return len([c async for c in await model.astream_chat(messages)])

        try:
            return await gather(one)
        finally:
            await model.aclose()

    async def openailike() -> int:
        _, model = _openai_models(base_url)

        async def one() -> int:
            return len([c async for c in await model.astream_chat(messages)])

        return await gather(one)

    return {
        "raw httpx": raw,
        "ChatHermes": chat_hermes,
        "ChatOpenAI": chat_openai,
        "Hermes": hermes,
        "OpenAILike": openailike,
    }


# ---- measuring -----------------------------------------------------------------------------------------
Medians = dict[str, float]


def measure(runs: dict[str, Callable[[], Any]], reps: int, is_async: bool = False) -> tuple[Medians, Medians]:
    """Median milliseconds per contender, with and without the cyclic collector's time.

    Rounds interleave all contenders, order rotated every round. Every run starts after `gc.collect()`
    (outside the clock), so no contender pays for collections another one's garbage made due; the
    collector's time inside each run is recorded through `gc.callbacks` (bench_langchain's clock) and the
    second dict holds the medians of (run time - collector time), the contender's own work.
    """
    names = list(runs)
    for name in names:  # warm-up: connections, imports, caches
        asyncio.run(runs[name]()) if is_async else runs[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    free: dict[str, list[float]] = {name: [] for name in names}
    clock = bench_langchain._CollectorClock()
    gc.callbacks.append(clock)
    try:
        for rep in range(reps):
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                gc.collect()
                clock.total, clock.full = 0.0, 0
                start = time.perf_counter()
                if is_async:
                    asyncio.run(runs[name]())
                else:
                    runs[name]()
                elapsed = (time.perf_counter() - start) * 1000
                times[name].append(elapsed)
                free[name].append(elapsed - clock.total * 1000)
    finally:
        gc.callbacks.remove(clock)
    return (
        {name: statistics.median(values) for name, values in times.items()},
        {name: statistics.median(values) for name, values in free.items()},
    )


# ---- reporting -----------------------------------------------------------------------------------------
def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def machine_info() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE, check=False
        ).stdout.strip()
    except OSError:
        commit = "-"
    packages = ", ".join(
        f"{p} {_version(p)}"
        for p in (
            "httpx",
            "langchain-core",
            "langchain-openai",
            "llama-index-core",
            "llama-index-llms-openai-like",
        )
    )
    return [
        f"- machine: {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {packages}",
        f"- commit {commit or '-'}, {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
    ]


PAIRS = (("ChatOpenAI", "ChatHermes"), ("OpenAILike", "Hermes"))


def headline(results: dict[str, Medians], collector_free: dict[str, Medians] | None = None) -> list[str]:
    """The ratios the README quotes. Linearity is read from collector-free times when given: the
    collector's cost grows with everything LangChain keeps alive, not with our per-chunk work."""
    lines = []
    for scenario, med in results.items():
        parts = [f"{slow} / {ours} = {med[slow] / med[ours]:.1f}x" for slow, ours in PAIRS]
        parts += [f"{ours} / raw = {med[ours] / med['raw httpx']:.2f}x" for _, ours in PAIRS]
        lines.append(f"- **{scenario}**: " + "; ".join(parts))
    small, large = (f"stream {n} chunks" for n in STREAM_SIZES)
    if small in results and large in results:
        scale = STREAM_SIZES[1] / STREAM_SIZES[0]

        def growth(med: dict[str, Medians]) -> str:
            return ", ".join(
                f"{name} {med[large][name] / med[small][name] / scale:.2f}"
                for name in ("core", "ChatHermes", "Hermes")
            )

        if collector_free is not None:
            lines.append(
                "- **linearity** (time per chunk at 10000 / at 1000, garbage collector's time excluded;"
                f" 1.00 = linear): {growth(collector_free)}; with the collector: {growth(results)}"
            )
        else:
            lines.append(
                f"- **linearity** (time per chunk at 10000 / at 1000; 1.00 = linear): {growth(results)}"
            )
    return lines


def write_markdown(
    path: Path, results: dict[str, Medians], collector_free: dict[str, Medians], command: str, reps: int
) -> None:
    contenders = ["raw httpx", "core", "ChatHermes", "ChatOpenAI", "Hermes", "OpenAILike"]
    lines = [
        "# Benchmark results",
        "",
        "Written by `benchmarks/run_all.py` — do not edit by hand. Medians of interleaved repetitions, one",
        "loopback server in its own process (see the script's docstring for the contenders and scenarios).",
        "",
        f"Command: `{command}` ({reps} repetitions per scenario)",
        "",
        *machine_info(),
        "",
        "## Headline ratios",
        "",
        *headline(results, collector_free),
        "",
        "## Medians (ms) and ratio to raw httpx",
        "",
        "| scenario | " + " | ".join(contenders) + " |",
        "|---|" + "---:|" * len(contenders),
    ]
    for scenario, med in results.items():
        raw = med["raw httpx"]
        cells = [f"{med[c]:.1f} ({med[c] / raw:.2f}x)" if c in med else "-" for c in contenders]
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "`core` is `hermes_gateway.GatewayClient` alone; ChatHermes and Hermes are built on it. In the async",
        "row each cell is the time for the whole batch of concurrent streams.",
        "",
        "## The garbage collector's share (ms: median run time - median collector-free run time)",
        "",
        "Every run starts after `gc.collect()` outside the clock; this is the time the cyclic collector ran",
        "inside the run (`gc.callbacks`). LangChain keeps every chunk of a stream until it ends, so its",
        "collections grow with the stream and with the whole heap; the linearity line above excludes them.",
        "",
        "| scenario | " + " | ".join(contenders) + " |",
        "|---|" + "---:|" * len(contenders),
    ]
    for scenario, med in results.items():
        free = collector_free[scenario]
        cells = [f"{med[c] - free[c]:.1f}" if c in med else "-" for c in contenders]
        lines.append(f"| {scenario} | " + " | ".join(cells) + " |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(path: Path, results: dict[str, Medians]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    contenders = ["core", "ChatHermes", "ChatOpenAI", "Hermes", "OpenAILike"]
    colours = {
        "core": "#777777",
        "ChatHermes": "#1f77b4",
        "ChatOpenAI": "#aec7e8",
        "Hermes": "#d62728",
        "OpenAILike": "#ff9896",
    }
    scenarios = list(results)
    width = 0.8 / len(contenders)
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for i, name in enumerate(contenders):
        xs = [s + (i - (len(contenders) - 1) / 2) * width for s in range(len(scenarios))]
        ys = [results[sc].get(name, float("nan")) / results[sc]["raw httpx"] for sc in scenarios]
        ax.bar(xs, ys, width, label=name, color=colours[name])
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="raw httpx = 1")
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_yscale("log")
    ax.set_ylabel("median time / raw httpx (log scale)")
    ax.set_title("hermes-gateway vs the stock OpenAI clients, one loopback server (lower is better)")
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(path: Path, lines: list[str]) -> None:
    """Put the headline ratios between the README's `<!-- bench:start -->` / `<!-- bench:end -->` markers."""
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->\n", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        path.write_text(
            head + start + "\n".join(lines) + "\n" + end + rest.split(end, 1)[1], encoding="utf-8"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=9, help="repetitions per scenario (async row: half)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent streams in the async row")
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 8 concurrent: a smoke run")
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md and results.png go")
    args = parser.parse_args(argv)
    reps, concurrency = (3, 8) if args.quick else (args.reps, args.concurrency)

    server, root = start_server(STREAM_SIZES)
    results: dict[str, Medians] = {}
    collector_free: dict[str, Medians] = {}
    try:
        invoke_url = f"{root}/c{INVOKE_TOKENS}/v1"
        print(f"invoke ({INVOKE_TOKENS}-token completion) ...", file=sys.stderr)
        key = f"invoke ({INVOKE_TOKENS} tokens)"
        results[key], collector_free[key] = measure(invoke_contenders(invoke_url), reps)
        for n in STREAM_SIZES:
            print(f"stream {n} chunks ...", file=sys.stderr)
            key = f"stream {n} chunks"
            results[key], collector_free[key] = measure(stream_contenders(f"{root}/c{n}/v1", n), reps)
        print(f"async: {concurrency} concurrent 1000-chunk streams ...", file=sys.stderr)
        key = f"async {concurrency} x 1000 chunks"
        results[key], collector_free[key] = measure(
            async_contenders(f"{root}/c1000/v1", concurrency), max(3, reps // 2), True
        )
    finally:
        server.terminate()

    command = "python benchmarks/run_all.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    args.out.mkdir(parents=True, exist_ok=True)
    write_markdown(args.out / "RESULTS.md", results, collector_free, command.strip(), reps)
    write_plot(args.out / "results.png", results)
    lines = headline(results, collector_free)
    if args.out == HERE:
        update_readme(HERE.parent / "README.md", lines)
    print("\n".join(lines))
    print(f"wrote {args.out / 'RESULTS.md'} and {args.out / 'results.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
