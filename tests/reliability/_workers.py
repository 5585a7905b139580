"""Functions run in spawned worker processes by test_scale_out.py (importable by the child, no pytest)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from llama_index.core.base.llms.types import ChatMessage

from langchain_hermes import ChatHermes


def ask(llm: Any, prompt: str) -> dict[str, Any]:
    """Use an unpickled model four ways (invoke, stream, their async twins) and report what came back."""
    try:
        if isinstance(llm, ChatHermes):
            texts = [
                str(llm.invoke(prompt).content),
                "".join(str(c.content) for c in llm.stream(prompt)),
                str(asyncio.run(llm.ainvoke(prompt)).content),
            ]

            async def astream() -> str:
                return "".join([str(c.content) async for c in llm.astream(prompt)])

            texts.append(asyncio.run(astream()))
        else:
            messages = [ChatMessage(role="user", content=prompt)]
            texts = [
                llm.chat(messages).message.content or "",
                "".join(r.delta or "" for r in llm.stream_chat(messages)),
                asyncio.run(llm.achat(messages)).message.content or "",
            ]

            async def astream_chat() -> str:
                return "".join([r.delta or "" async for r in await llm.astream_chat(messages)])

            texts.append(asyncio.run(astream_chat()))
        return {"pid": os.getpid(), "type": type(llm).__name__, "texts": texts}
    finally:
        llm.close()
