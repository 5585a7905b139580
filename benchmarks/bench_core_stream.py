"""GatewayClient.stream against raw httpx + json.loads, on a loopback SSE server, at 1k and 10k chunks.

A small threaded HTTP/1.1 server in this file (127.0.0.1, keep-alive) answers every POST with a pre-built
APIpie-style stream: `: OPENROUTER PROCESSING`, N content chunks (`choices[].index` counting up,
`system_fingerprint: "null"`, `provider`), a finish chunk, a usage-only chunk and `data: [DONE]`.

- (a) raw: `httpx.Client.stream` + `iter_lines()` + `json.loads` of every `data:` line — the least any client
  must do;
- (b) ours: `GatewayClient.stream(...)` iterated to the end (SSE decoding, chunk conversion, `<think>` /
  `<tool_call>` scanning, usage, the final delta).

Two server modes: `bulk` writes the whole body at once (pure client CPU: the hardest case for the ratio) and
`events` writes and flushes one event at a time (closer to a live gateway). Repetitions are interleaved (raw,
ours, raw, ours, ...) so drift hits both; medians are reported, with the per-repetition ratio's median.
Targets (issue 2): ours <= 1.5x raw; time per chunk flat from 1k to 10k (linear).

    python benchmarks/bench_core_stream.py [--repeat 15] [--sizes 1000 10000] [--modes bulk events]
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from hermes_gateway import GatewayClient

_WORDS = [" the", " quick", " brown", " fox", " jumps", " over", " a", " lazy", " dog", ".", " Hermes", ","]


def build_stream(n: int) -> list[bytes]:
    """The events of one reply with `n` content chunks, each a complete `data: ...\\n\\n` (or comment)."""
    events = [b": OPENROUTER PROCESSING\n\n"]
    base: dict[str, Any] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1729535643,
        "provider": "openrouter",
        "model": "nousresearch/hermes-3-llama-3.1-70b",
        "system_fingerprint": "null",
    }
    for i in range(n):
        chunk = {
            **base,
            "choices": [{"index": i, "delta": {"content": _WORDS[i % len(_WORDS)]}, "finish_reason": None}],
        }
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    finish = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    usage = {
        "id": "chatcmpl-bench",
        "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": n + 12, "cost": "0.00012"},
    }
    events += [b"data: " + json.dumps(c).encode() + b"\n\n" for c in (finish, usage)]
    events.append(b"data: [DONE]\n\n")
    return events


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        request = json.loads(self.rfile.read(length))
        n = int(request["model"].rsplit("-", 1)[1])
        events = self.server.streams[n]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.server.mode == "bulk":
            body = b"".join(events)
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            for event in events:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sizes: list[int]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.streams = {n: build_stream(n) for n in sizes}
        self.mode = "bulk"

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients closing idle keep-alive connections at the end are not errors


def raw_once(http: httpx.Client, url: str, n: int) -> int:
    """The baseline: iter_lines + json.loads; returns the number of chunks parsed."""
    body = {"model": f"bench-{n}", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    count = 0
    with http.stream("POST", url, json=body, headers={"Authorization": "Bearer sk-bench"}) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            json.loads(data)
            count += 1
    return count


def ours_once(client: GatewayClient, n: int) -> int:
    """GatewayClient.stream to the end; returns the number of deltas (content deltas + the final one)."""
    count = 0
    with client.stream({"model": f"bench-{n}", "messages": [{"role": "user", "content": "hi"}]}) as stream:
        for _delta in stream:
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--modes", nargs="+", default=["bulk", "events"], choices=["bulk", "events"])
    args = parser.parse_args()

    server = _Server(args.sizes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    http = httpx.Client(timeout=60)
    client = GatewayClient("apipie", api_key="sk-bench", base_url=base_url, max_retries=0)
    url = base_url + "/chat/completions"
    try:
        print(
            f"{'mode':<7} {'chunks':>7} {'raw ms':>9} {'ours ms':>9} {'ratio':>6} {'raw us/chunk':>13} "
            f"{'ours us/chunk':>14}"
        )
        per_chunk: dict[str, dict[int, float]] = {}
        for mode in args.modes:
            server.mode = mode
            for n in args.sizes:  # warm up connections, caches and the JSON encoder
                assert raw_once(http, url, n) == n + 2
                assert ours_once(client, n) == n + 1
            raw: dict[int, list[float]] = {n: [] for n in args.sizes}
            ours: dict[int, list[float]] = {n: [] for n in args.sizes}
            ratios: dict[int, list[float]] = {n: [] for n in args.sizes}
            for rep in range(args.repeat):
                for n in args.sizes:
                    order = ("raw", "ours") if rep % 2 == 0 else ("ours", "raw")
                    times: dict[str, float] = {}
                    for which in order:
                        started = time.perf_counter()
                        if which == "raw":
                            raw_once(http, url, n)
                        else:
                            ours_once(client, n)
                        times[which] = time.perf_counter() - started
                    raw[n].append(times["raw"])
                    ours[n].append(times["ours"])
                    ratios[n].append(times["ours"] / times["raw"])
            per_chunk[mode] = {}
            for n in args.sizes:
                r, o = statistics.median(raw[n]), statistics.median(ours[n])
                per_chunk[mode][n] = o / n * 1e6
                print(
                    f"{mode:<7} {n:>7} {r * 1e3:>9.2f} {o * 1e3:>9.2f} {statistics.median(ratios[n]):>6.2f} "
                    f"{r / n * 1e6:>13.2f} {o / n * 1e6:>14.2f}"
                )
        for mode, values in per_chunk.items():
            small, large = min(args.sizes), max(args.sizes)
            print(
                f"{mode}: ours per chunk at {large} / at {small} = {values[large] / values[small]:.2f} "
                "(1.0 = perfectly linear)"
            )
    finally:
        client.close()
        http.close()
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
