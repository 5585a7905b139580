"""Tool-calling agent loops replayed from cassettes, on the three tool paths a Hermes model can take.

The loop is LangChain's own contract without langgraph: bind tools, invoke, run every tool call, append the
`ToolMessage`s (with their `tool_call_id`s), repeat until the model answers in text. Paths:
- prompt mode: nous-hermes-2-mixtral-8x7b-dpo on APIpie (no native tools there: `<tools>` system prompt,
  `<tool_call>` text back, history rendered as `<tool_call>` / `<tool_response>` text);
- text tool calls: Hermes 4 70B on APIpie sent native `tools`, whose provider leaves the calls as
  `<tool_call>` text in `content` (the core parses them into real tool calls);
- native: Hermes 3 70B on AI/ML API with `tool_mode="native"` (AI/ML API's native tools for Hermes are
  unconfirmed, so auto mode would use the prompt format there: gateways.md Corrections).
Each runs invoke-only and streaming (chunks merged), sync and async.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from pydantic import SecretStr

from langchain_hermes import ChatHermes
from tests.cassette_support import gateway_api_key, gateway_base_url

pytestmark = pytest.mark.vcr
CASSETTE_SUITE = "langchain"


@tool
def get_weather(location: str) -> str:
    """Get the current weather at a location."""
    return f"It is 21 degrees and sunny in {location}."


@tool
def convert_celsius(celsius: int) -> int:
    """Convert a temperature in degrees Celsius to Fahrenheit."""
    return celsius * 9 // 5 + 32


TOOLS: list[BaseTool] = [get_weather, convert_celsius]
PATHS = {
    "prompt_mode": ("apipie", "nous-hermes-2-mixtral-8x7b-dpo", "auto"),
    "text_tool_calls": ("apipie", "hermes-4-70b", "native"),
    "native": ("aimlapi", "hermes-3-llama-3.1-70b", "native"),
}


def _model(path: str) -> Any:
    gateway, model, tool_mode = PATHS[path]
    llm = ChatHermes(
        model=model,
        gateway=gateway,  # type: ignore[arg-type]  # a Literal taken from the table above
        tool_mode=tool_mode,  # type: ignore[arg-type]
        base_url=gateway_base_url(gateway),
        api_key=SecretStr(gateway_api_key(gateway)),
        temperature=0,
    )
    return llm.bind_tools(TOOLS)


async def _call(llm: Any, messages: list[BaseMessage], *, streaming: bool, use_async: bool) -> AIMessage:
    if not streaming:
        reply = await llm.ainvoke(messages) if use_async else llm.invoke(messages)
        assert isinstance(reply, AIMessage)
        return reply
    chunks: list[AIMessageChunk] = (
        [c async for c in llm.astream(messages)] if use_async else list(llm.stream(messages))
    )
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert full.chunk_position == "last"
    return full


async def _agent(path: str, question: str, *, streaming: bool, use_async: bool) -> list[BaseMessage]:
    llm = _model(path)
    tools = {t.name: t for t in TOOLS}
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(4):
        reply = await _call(llm, messages, streaming=streaming, use_async=use_async)
        messages.append(reply)
        assert not reply.invalid_tool_calls
        if not reply.tool_calls:
            return messages
        for call in reply.tool_calls:
            result = tools[call["name"]].invoke(call)
            assert isinstance(result, ToolMessage)
            assert result.tool_call_id == call["id"]
            messages.append(result)
    raise AssertionError("the agent did not finish in 4 turns")


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
@pytest.mark.parametrize("path", list(PATHS))
def test_weather_agent(path: str, streaming: bool, use_async: bool) -> None:
    messages = asyncio.run(
        _agent(path, "What is the weather in Paris?", streaming=streaming, use_async=use_async)
    )
    first, final = messages[1], messages[-1]
    assert isinstance(first, AIMessage)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("get_weather", {"location": "Paris"})]
    assert first.tool_calls[0]["id"]
    assert "<tool_call>" not in first.text
    assert isinstance(messages[2], ToolMessage)
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "21 degrees and sunny in Paris" in final.text
    assert final.usage_metadata is not None
    assert final.response_metadata["model_name"] == PATHS[path][1]
