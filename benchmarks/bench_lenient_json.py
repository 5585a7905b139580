"""Repairing almost-JSON tool calls: our `_lenient_json` against json-repair (PyPI), speed and behaviour.

Issue 18 asked to choose the means by measuring. The inputs are the class-3 shapes of the issue: the ones
that must be repaired, and the ones that must stay invalid (a value cut mid-way, as when `max_tokens` is
hit, and text that is not almost-JSON). json-repair is not a dependency; install it into any environment
to compare (`pip install json-repair`), else only our reader is timed.

    python benchmarks/bench_lenient_json.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from hermes_gateway._lenient_json import loads_lenient

CASES = {
    "python dict": "{'name': 'get_stock', 'arguments': {'symbol': 'TSLA', 'live': True, 'limit': None}}",
    "literal newlines": '{"name": "python", "arguments": {"code": "# prog\nprint(1)\n\tpass"}}',
    "trailing comma": '{"name": "get_weather", "arguments": {"city": "Paris",},}',
    "missing final }": '{"name": "final_answer", "arguments": {"trigger": true}',
    "missing }}": '{"name": "get_weather", "arguments": {"city": "Paris"',
    "cut in a string (stays invalid)": '{"name": "write_file", "arguments": {"content": "# Guide: Buil',
    "cut in a number (stays invalid)": '{"name": "get_weather", "arguments": {"days": 1',
    "cut after a comma (stays invalid)": '{"name": "get_weather", "arguments": {"city": "Paris",',
    "not almost-JSON (stays invalid)": "{'name': 'get_weather', 'arguments': {'city' 'Paris'}}",
}


def ours(text: str) -> Any:
    try:
        return loads_lenient(text)[0]
    except ValueError:
        return "INVALID"


def best_us(fn: Callable[[str], Any], text: str, number: int = 2000) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            fn(text)
        best = min(best, time.perf_counter() - start)
    return best / number * 1e6


def main() -> None:
    try:
        import json_repair  # type: ignore[import-not-found,unused-ignore]  # optional: only to compare
    except ImportError:
        json_repair = None
        print("json-repair is not installed: timing _lenient_json only (pip install json-repair to compare)")

    def theirs(text: str) -> Any:
        return json_repair.loads(text)

    for label, text in CASES.items():
        print(f"{label}:")
        print(f"  _lenient_json {best_us(ours, text):7.1f} us  {json.dumps(ours(text))[:80]}")
        if json_repair is not None:
            print(f"  json_repair   {best_us(theirs, text):7.1f} us  {json.dumps(theirs(text))[:80]}")
    if json_repair is not None:
        probe = [sys.executable, "-X", "importtime", "-c", "import json_repair"]
        last = subprocess.run(probe, capture_output=True, text=True, check=False).stderr.strip().splitlines()
        print("json_repair import (self | cumulative us):", last[-1].split(":", 1)[1].strip())


if __name__ == "__main__":
    main()
