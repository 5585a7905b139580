"""Shared fixtures for the core tests: build SSE bodies and run them through the reply pipeline."""

from __future__ import annotations

import json
from typing import Any

from hermes_gateway._accumulator import StreamAccumulator
from hermes_gateway._stream import ReplyPipeline
from hermes_gateway._types import ChatDelta, ChatResult


def sse(*chunks: dict[str, Any] | str, done: bool = True, eol: str = "\n") -> bytes:
    """An SSE body: dicts become `data: {json}` events, strings are sent as raw lines."""
    parts = []
    for chunk in chunks:
        line = chunk if isinstance(chunk, str) else "data: " + json.dumps(chunk)
        parts.append(line + eol + eol)
    if done:
        parts.append("data: [DONE]" + eol + eol)
    return "".join(parts).encode()


def content_chunk(text: str, *, index: int = 0, id: str = "gen-1", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "model": "nousresearch/hermes-3-llama-3.1-70b",
        "choices": [{"index": index, "delta": {"content": text}, "finish_reason": None}],
        **extra,
    }


def finish_chunk(reason: str = "stop", *, id: str = "gen-1") -> dict[str, Any]:
    return {"id": id, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}


def usage_chunk(prompt: int = 10, completion: int = 5, **usage: Any) -> dict[str, Any]:
    return {
        "id": "gen-1",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            **usage,
        },
    }


def run(
    *pieces: bytes, parse_tool_calls: bool = False, gateway: str = "apipie", model: str | None = None
) -> list[ChatDelta]:
    pipeline = ReplyPipeline(gateway=gateway, model=model, parse_tool_calls=parse_tool_calls)
    deltas: list[ChatDelta] = []
    for piece in pieces:
        deltas.extend(pipeline.feed(piece))
        if pipeline.done:
            break
    deltas.extend(pipeline.finish(latency_ms=12.5))
    return deltas


def result_of(*pieces: bytes, parse_tool_calls: bool = False, gateway: str = "apipie") -> ChatResult:
    deltas = run(*pieces, parse_tool_calls=parse_tool_calls, gateway=gateway)
    return StreamAccumulator(gateway=gateway).extend(deltas).result()


def completion_result(payload: Any, *, parse_tool_calls: bool = False, gateway: str = "apipie") -> ChatResult:
    pipeline = ReplyPipeline(gateway=gateway, parse_tool_calls=parse_tool_calls)
    deltas = pipeline.feed_completion(payload)
    deltas.extend(pipeline.finish(latency_ms=3.0))
    return StreamAccumulator(gateway=gateway).extend(deltas).result()
