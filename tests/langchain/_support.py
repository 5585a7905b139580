"""Helpers shared by the ChatHermes replica tests: sync/async drivers, chunk merging, scripted SSE chunks."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool
from pydantic import BaseModel, Field

SECRET = "sk-hermes-test-secret-0123456789"
MODES = ["sync", "async"]


def invoke(llm: Any, value: Any, mode: str, **kwargs: Any) -> Any:
    if mode == "sync":
        return llm.invoke(value, **kwargs)
    return asyncio.run(llm.ainvoke(value, **kwargs))


def stream(llm: Any, value: Any, mode: str, **kwargs: Any) -> list[Any]:
    if mode == "sync":
        return list(llm.stream(value, **kwargs))

    async def collect() -> list[Any]:
        return [chunk async for chunk in llm.astream(value, **kwargs)]

    return asyncio.run(collect())


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def chunk(content: str | None = None, *, usage: dict[str, Any] | None = None, **delta: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "model": "hermes-3-llama-3-1-70b",
        "choices": [
            {"index": 0, "delta": {**({"content": content} if content is not None else {}), **delta}}
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def finish(reason: str = "stop", *, index: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "choices": [{"index": index, "delta": {}, "finish_reason": reason}],
    }


@tool
def get_weather(location: str) -> str:
    """Get the weather at a location."""
    return f"It's sunny in {location}."


class Multiply(BaseModel):
    """Multiply two integers."""

    a: int = Field(description="first factor")
    b: int = Field(description="second factor")
