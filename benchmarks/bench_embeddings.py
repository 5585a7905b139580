"""Embedding 10,000 short texts: GatewayEmbeddings (sync and async) vs raw httpx sending the same batches vs
OpenAIEmbeddings(check_embedding_ctx_length=False), all against one loopback server, in one run.

The server runs in its own process (no GIL shared with the measured client) and answers `POST /v1/embeddings`
with one fixed vector per input (floats, or base64 float32 when asked: OpenAI's client asks for base64 by
default), so every contender gets the same bytes for the same batch. Contenders (one object each, reused
across repetitions; repetitions interleaved, medians reported):

- raw sync / raw async: httpx.Client / httpx.AsyncClient posting the same batches of `--chunk-size` texts
  (async: `--concurrency` in flight), `json.loads` of each reply and the vectors put in input order — the
  least any client must do;
- GatewayEmbeddings sync / async: `embed_documents` / `aembed_documents` (input checks, batching, retries,
  usage, typed errors, vectors as lists of floats), same chunk size and concurrency;
- GatewayEmbeddings base64: the same with `encoding_format="base64"` (smaller replies, decoded here);
- OpenAIEmbeddings sync / async: langchain-openai with `check_embedding_ctx_length=False` (else it sends
  token arrays that non-OpenAI models refuse) and the same `chunk_size`; it sends its batches one at a time
  even in async.

Reported: median wall time and median CPU time of this process (the server runs in another one); on a shared
machine the CPU time is the steadier measure of the client's own cost. Ratios are each contender's median
over the raw httpx median for the same mode (sync or async) and the same
reply encoding: float rows over "raw httpx", base64 rows (and OpenAIEmbeddings, which asks for base64) over
"raw httpx base64". The target for GatewayEmbeddings is <= 1.2.

    python benchmarks/bench_embeddings.py [--texts 10000] [--dimensions 256] [--chunk-size 512]
                                          [--concurrency 4] [--reps 5] [--json]

Needs the `bench` extra (langchain-openai) for the OpenAIEmbeddings rows; they are skipped without it.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import json
import multiprocessing
import random
import socket
import statistics
import struct
import time
import warnings
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import httpx

from langchain_hermes import GatewayEmbeddings

MODEL = "text-embedding-3-small"
KEY = "bench-key-not-a-secret"
Runner = Callable[[], Any]


# ---- the server -------------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def serve(dimensions: int) -> ThreadingHTTPServer:
    rng = random.Random(0)
    values = [round(rng.uniform(-0.1, 0.1), 8) for _ in range(dimensions)]
    as_float = json.dumps(values)
    as_base64 = json.dumps(base64.b64encode(struct.pack(f"<{dimensions}f", *values)).decode())

    bodies: dict[tuple[str, int], bytes] = {}

    def body_for(encoding: str, count: int) -> bytes:
        """The reply depends only on the encoding and the batch size: built once, then served from memory, so
        the server's own time stays small next to the clients'."""
        key = (encoding, count)
        if key not in bodies:
            vector = as_base64 if encoding == "base64" else as_float
            items = ",".join(
                f'{{"object":"embedding","index":{i},"embedding":{vector}}}' for i in range(count)
            )
            tokens = 3 * count
            bodies[key] = (
                f'{{"object":"list","data":[{items}],"model":"{MODEL}",'
                f'"usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}'
            ).encode()
        return bodies[key]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            body = body_for(str(request.get("encoding_format") or "float"), len(request["input"]))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return _Server(("127.0.0.1", 0), Handler)


def _serve_forever(dimensions: int, port_out: Connection) -> None:
    server = serve(dimensions)
    port_out.send(server.server_address[1])
    server.serve_forever()


def start_server(dimensions: int) -> tuple[multiprocessing.Process, str]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=_serve_forever, args=(dimensions, send), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{receive.recv()}/v1"


# ---- contenders -------------------------------------------------------------------------------------------
def contenders(
    base_url: str, texts: list[str], chunk_size: int, concurrency: int
) -> tuple[dict[str, Runner], dict[str, Callable[[], Awaitable[Any]]]]:
    batches = [texts[i : i + chunk_size] for i in range(0, len(texts), chunk_size)]
    headers = {"Authorization": f"Bearer {KEY}"}
    url = f"{base_url}/embeddings"
    sync_client = httpx.Client(headers=headers, timeout=60)
    async_client = httpx.AsyncClient(headers=headers, timeout=60)

    def vectors_of(content: bytes) -> list[list[float]]:
        data = json.loads(content)["data"]
        out: list[list[float]] = [[] for _ in data]
        for item in data:
            value = item["embedding"]
            if isinstance(value, str):
                floats = array.array("f")
                floats.frombytes(base64.b64decode(value))
                value = floats.tolist()
            out[item["index"]] = value
        return out

    def raw_sync(**extra: str) -> list[list[float]]:
        result: list[list[float]] = []
        for batch in batches:
            response = sync_client.post(url, json={"model": MODEL, "input": batch, **extra})
            result += vectors_of(response.content)
        return result

    async def raw_async(**extra: str) -> list[list[float]]:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(batch: list[str]) -> list[list[float]]:
            async with semaphore:
                response = await async_client.post(url, json={"model": MODEL, "input": batch, **extra})
                return vectors_of(response.content)

        parts = await asyncio.gather(*(one(b) for b in batches))
        return [v for part in parts for v in part]

    common = {"model": MODEL, "gateway": "openai", "base_url": base_url, "api_key": KEY}
    ours = GatewayEmbeddings(**common, chunk_size=chunk_size, max_concurrency=concurrency)
    ours64 = GatewayEmbeddings(
        **common, chunk_size=chunk_size, max_concurrency=concurrency, encoding_format="base64"
    )
    sync: dict[str, Runner] = {
        "raw httpx": raw_sync,
        "GatewayEmbeddings": lambda: ours.embed_documents(texts),
        "raw httpx base64": lambda: raw_sync(encoding_format="base64"),
        "GatewayEmbeddings base64": lambda: ours64.embed_documents(texts),
    }
    async_: dict[str, Callable[[], Awaitable[Any]]] = {
        "raw httpx": raw_async,
        "GatewayEmbeddings": lambda: ours.aembed_documents(texts),
        "raw httpx base64": lambda: raw_async(encoding_format="base64"),
        "GatewayEmbeddings base64": lambda: ours64.aembed_documents(texts),
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_openai import OpenAIEmbeddings

            theirs = OpenAIEmbeddings(
                model=MODEL,
                base_url=base_url,
                api_key=KEY,  # type: ignore[arg-type]  # a str is accepted and wrapped in SecretStr
                check_embedding_ctx_length=False,
                chunk_size=chunk_size,
                max_retries=0,
            )
        sync["OpenAIEmbeddings"] = lambda: theirs.embed_documents(texts)
        async_["OpenAIEmbeddings"] = lambda: theirs.aembed_documents(texts)
    except ImportError:
        print("langchain-openai not installed (the `bench` extra): OpenAIEmbeddings rows skipped")
    return sync, async_


def measure(
    sync: dict[str, Runner], async_: dict[str, Callable[[], Awaitable[Any]]], reps: int, expected: int
) -> dict[str, dict[str, dict[str, float]]]:
    """Median wall and CPU seconds per clock, mode and contender; repetitions interleaved, one warm-up each.

    CPU time is this process's (the server is another process): on a shared machine it is the steadier
    measure of what the client itself costs, while wall time also carries the other processes' load.
    """
    times: dict[str, dict[str, dict[str, list[float]]]] = {
        clock: {"sync": {k: [] for k in sync}, "async": {k: [] for k in async_}} for clock in ("wall", "cpu")
    }
    loop = asyncio.new_event_loop()

    def record(mode: str, name: str, rep: int, started: tuple[float, float], result: Any) -> None:
        wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
        assert len(result) == expected, (name, len(result))
        if rep:
            times["wall"][mode][name].append(wall)
            times["cpu"][mode][name].append(cpu)

    try:
        for rep in range(reps + 1):
            for name, run in sync.items():
                started = (time.perf_counter(), time.process_time())
                record("sync", name, rep, started, run())
            for name, arun in async_.items():
                started = (time.perf_counter(), time.process_time())
                record("async", name, rep, started, loop.run_until_complete(arun()))
    finally:
        loop.close()
    return {
        clock: {mode: {k: statistics.median(v) for k, v in per.items()} for mode, per in modes.items()}
        for clock, modes in times.items()
    }


def baseline(name: str) -> str:
    """The raw row a contender is compared with: the one getting the same reply encoding."""
    return "raw httpx base64" if ("base64" in name or name == "OpenAIEmbeddings") else "raw httpx"


def ratios(medians: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {mode: {k: v / per[baseline(k)] for k, v in per.items()} for mode, per in medians.items()}


def report(medians: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace) -> list[str]:
    lines = [
        f"{args.texts:,} texts, {args.dimensions} dimensions, batches of {args.chunk_size}, "
        f"async concurrency {args.concurrency}, median of {args.reps}",
        f"{'mode':<6} {'contender':<26} {'wall s':>7} {'texts/s':>8} {'x raw':>6} {'cpu s':>7} {'x raw':>6}",
    ]
    wall, cpu = medians["wall"], medians["cpu"]
    wall_ratio, cpu_ratio = ratios(wall), ratios(cpu)
    for mode, per in wall.items():
        for name, seconds in per.items():
            lines.append(
                f"{mode:<6} {name:<26} {seconds:7.3f} {args.texts / seconds:8,.0f} "
                f"{wall_ratio[mode][name]:6.2f} {cpu[mode][name]:7.3f} {cpu_ratio[mode][name]:6.2f}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument("--chunk-size", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    texts = [f"short text number {i} about topic {i % 97}" for i in range(args.texts)]
    process, base_url = start_server(args.dimensions)
    try:
        sync, async_ = contenders(base_url, texts, args.chunk_size, args.concurrency)
        medians = measure(sync, async_, args.reps, len(texts))
    finally:
        process.terminate()
    if args.json:
        out = {
            "seconds": medians,
            "ratio_to_raw": {c: ratios(m) for c, m in medians.items()},
            "args": vars(args),
        }
        print(json.dumps(out, indent=2))
    else:
        print("\n".join(report(medians, args)))


if __name__ == "__main__":
    main()
