"""One call shape for both client paths, so every fixture runs through sync and async alike.

The async path uses a fresh `asyncio.run` per call, which also exercises one client across event loops.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hermes_gateway import ChatDelta, ChatRequest, ChatResult, GatewayClient


def chat(client: GatewayClient, request: ChatRequest, driver: str, **kw: Any) -> ChatResult:
    if driver == "sync":
        return client.chat(request, **kw)
    return asyncio.run(client.achat(request, **kw))


def stream(client: GatewayClient, request: ChatRequest, driver: str, **kw: Any) -> list[ChatDelta]:
    """All deltas of a stream."""
    return stream_until(client, request, driver, None, **kw)


def stream_until(
    client: GatewayClient, request: ChatRequest, driver: str, seen: list[ChatDelta] | None, **kw: Any
) -> list[ChatDelta]:
    """Like `stream`, appending each delta to `seen` as it arrives (so a test can see what came before a
    failure)."""
    out = seen if seen is not None else []
    if driver == "sync":
        with client.stream(request, **kw) as s:
            for delta in s:
                out.append(delta)
        return out

    async def go() -> list[ChatDelta]:
        async with client.astream(request, **kw) as s:
            async for delta in s:
                out.append(delta)
        return out

    return asyncio.run(go())
