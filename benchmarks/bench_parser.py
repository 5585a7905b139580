"""Cost of the Hermes text parser on a plain-text stream.

Feeds 1000 token-sized chunks with no `<` (what almost every streamed reply is) through `HermesTextParser`
with tools and reasoning on, against a bare loop that only concatenates the chunks, and prints the extra cost
per chunk and per 1000 chunks. Budget (issue 5): the parser may add at most 10% to `ChatHermes.stream` of 1000
chunks (~25 ms), so it must stay well under 2.5 ms per 1000 chunks. Also times a reply with reasoning and two
tool calls, which goes through the slow path on every chunk that holds a `<`.

    python benchmarks/bench_parser.py [--chunks 1000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from hermes_gateway._hermes_parser import HermesTextParser

_WORDS = [
    "the",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " a",
    " lazy",
    " dog",
    ".",
    "\n",
    " Hermes",
    ",",
    " 42",
]
_BUDGET_MS = 2.5


def plain_chunks(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(_WORDS) for _ in range(count)]


def tool_reply_chunks(count: int, size: int = 4, seed: int = 0) -> list[str]:
    """A reply with reasoning, text and two tool calls, cut into `size`-character chunks."""
    text = "<think>\n" + "".join(plain_chunks(count // 4, seed)) + "\n</think>\n"
    text += "".join(plain_chunks(count // 4, seed + 1))
    for name in ("get_weather", "get_time"):
        call = {"name": name, "arguments": {"city": "Paris", "note": "a <b> c"}}
        text += f"\n<tool_call>\n{json.dumps(call)}\n</tool_call>"
    return [text[i : i + size] for i in range(0, len(text), size)]


def bare_loop(chunks: list[str]) -> str:
    out = []
    for chunk in chunks:
        out.append(chunk)
    return "".join(out)


def parser_loop(chunks: list[str]) -> str:
    parser = HermesTextParser(tool_calls=True, reasoning=True, id_factory=str)
    out = []
    for chunk in chunks:
        out.append(parser.feed(chunk).content)
    out.append(parser.finish().content)
    return "".join(out)


def named_parser_loop(chunks: list[str]) -> str:
    """With the offered tools' names (as with `bind_tools`): ```json fences are looked for too."""
    parser = HermesTextParser(tool_calls=True, reasoning=True, id_factory=str, tool_names=("get_weather",))
    out = []
    for chunk in chunks:
        out.append(parser.feed(chunk).content)
    out.append(parser.finish().content)
    return "".join(out)


def best_seconds(fn: Callable[[list[str]], str], chunks: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(chunks)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--chunks", type=int, default=1000)
    args.add_argument("--repeat", type=int, default=200)
    opts = args.parse_args()

    chunks = plain_chunks(opts.chunks)
    assert parser_loop(chunks) == bare_loop(chunks)  # the parser must not change plain text
    bare = best_seconds(bare_loop, chunks, opts.repeat)
    parsed = best_seconds(parser_loop, chunks, opts.repeat)
    extra_ms = (parsed - bare) * 1000 * 1000 / opts.chunks
    print(f"plain text, {opts.chunks} chunks (best of {opts.repeat}):")
    print(f"  bare loop       {bare * 1e3:8.3f} ms  ({bare / opts.chunks * 1e6:.3f} us/chunk)")
    print(f"  parser loop     {parsed * 1e3:8.3f} ms  ({parsed / opts.chunks * 1e6:.3f} us/chunk)")
    per_chunk_us = (parsed - bare) / opts.chunks * 1e6
    print(f"  parser overhead {per_chunk_us:8.3f} us/chunk, {extra_ms:.3f} ms per 1000 chunks")
    print(f"  ratio           {parsed / bare:8.1f}x the bare loop")
    print(f"  budget used     {extra_ms / _BUDGET_MS * 100:8.1f}% of {_BUDGET_MS} ms per 1000 chunks")
    print(f"  -> {'OK' if extra_ms <= _BUDGET_MS else 'OVER BUDGET'}")
    named = best_seconds(named_parser_loop, chunks, opts.repeat)
    per_chunk_us = (named - bare) / opts.chunks * 1e6
    print(f"  with tool_names {per_chunk_us:8.3f} us/chunk (```json fences looked for too)")

    tool_chunks = tool_reply_chunks(opts.chunks)
    bare = best_seconds(bare_loop, tool_chunks, opts.repeat)
    parsed = best_seconds(parser_loop, tool_chunks, opts.repeat)
    print(f"reasoning + text + 2 tool calls, {len(tool_chunks)} chunks of 4 chars:")
    per_chunk_us = (parsed - bare) / len(tool_chunks) * 1e6
    print(f"  parser overhead {per_chunk_us:8.3f} us/chunk, {(parsed - bare) * 1e3:.3f} ms in all")


if __name__ == "__main__":
    main()
