"""LangChain's own agent (`langchain.agents.create_agent`) on ChatHermes, replayed from replica cassettes.

The three tool paths a Hermes model can take, each run end to end by the langgraph agent (model → tools →
model) through `invoke`, `stream`, `ainvoke` and `astream`:
- prompt mode: nous-hermes-2-mixtral-8x7b-dpo on APIpie in `auto` (no native tools there: `<tools>` system
  prompt, `<tool_call>` text back, the history rendered back as `<tool_call>` / `<tool_response>` text);
- text tool calls: Hermes 4 70B on APIpie sent native `tools`, whose provider leaves the calls as
  `<tool_call>` text in `content` (the replica's one "text" model; the core parses them into tool calls);
- native: Hermes 3 70B on AI/ML API (`nousresearch/hermes-3-llama-3.1-70b`).
Streaming with `stream_mode="messages"` makes the agent call the model's streaming path, so the merged chunks
are what the agent keeps. The assertions are ones a real model run passes too: no fixed answer text.

Record: `python -m tests.record_cassettes --target replica tests/langchain/test_create_agent.py`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import SecretStr

from langchain_hermes import ChatHermes
from tests.cassette_support import gateway_api_key, gateway_base_url

pytestmark = pytest.mark.vcr
CASSETTE_SUITE = "langchain/create_agent"


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is 21 degrees and sunny in {city}."


PATHS: dict[str, tuple[str, str, str]] = {
    "prompt_mode": ("apipie", "nous-hermes-2-mixtral-8x7b-dpo", "auto"),
    "text_tool_calls": ("apipie", "hermes-4-70b", "native"),
    "native": ("aimlapi", "nousresearch/hermes-3-llama-3.1-70b", "native"),
}
QUESTION = "What is the weather in Paris?"


def _agent(path: str) -> tuple[Any, ChatHermes]:
    gateway, model, tool_mode = PATHS[path]
    llm = ChatHermes(
        model=model,
        gateway=gateway,  # type: ignore[arg-type]  # a Literal taken from the table above
        tool_mode=tool_mode,  # type: ignore[arg-type]
        base_url=gateway_base_url(gateway),
        api_key=SecretStr(gateway_api_key(gateway)),
        temperature=0,
    )
    return create_agent(model=llm, tools=[get_weather]), llm


def _run(path: str, how: str) -> tuple[list[BaseMessage], int]:
    """The agent's final messages, and how many message chunks it streamed (0 unless streaming)."""
    agent, llm = _agent(path)
    inputs = {"messages": [HumanMessage(QUESTION)]}
    streamed = 0
    try:
        if how == "invoke":
            messages = agent.invoke(inputs)["messages"]
        elif how == "stream":
            state: dict[str, Any] = {}
            for mode, data in agent.stream(inputs, stream_mode=["messages", "values"]):
                if mode == "values":
                    state = data
                elif isinstance(data[0], AIMessageChunk):
                    streamed += 1
            messages = state["messages"]
        elif how == "ainvoke":
            messages = asyncio.run(agent.ainvoke(inputs))["messages"]
        else:

            async def collect() -> tuple[list[BaseMessage], int]:
                state: dict[str, Any] = {}
                count = 0
                async for mode, data in agent.astream(inputs, stream_mode=["messages", "values"]):
                    if mode == "values":
                        state = data
                    elif isinstance(data[0], AIMessageChunk):
                        count += 1
                await llm.aclose()
                return state["messages"], count

            messages, streamed = asyncio.run(collect())
    finally:
        llm.close()
    return messages, streamed


def _texts(message: BaseMessage) -> str:
    """Everything a message carries as text, content blocks and tool-call arguments included."""
    parts = [json.dumps(message.content)]
    if isinstance(message, AIMessage):
        parts += [json.dumps(call["args"]) for call in message.tool_calls]
    return "\n".join(parts)


@pytest.mark.parametrize("how", ["invoke", "stream", "ainvoke", "astream"])
@pytest.mark.parametrize("path", list(PATHS))
def test_create_agent_weather(path: str, how: str) -> None:
    messages, streamed = _run(path, how)

    assert isinstance(messages[0], HumanMessage)
    calls = [(m, call) for m in messages if isinstance(m, AIMessage) for call in m.tool_calls]
    weather = [(m, call) for m, call in calls if call["name"] == "get_weather"]
    assert weather, f"no get_weather tool call in {messages!r}"
    caller, call = weather[0]
    assert isinstance(call["args"].get("city"), str)
    assert call["args"]["city"].strip()
    assert call["id"]
    assert not caller.invalid_tool_calls

    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert call["id"] in {r.tool_call_id for r in results}
    result = next(r for r in results if r.tool_call_id == call["id"])
    assert result.name == "get_weather"
    assert result.content == get_weather.invoke({"city": call["args"]["city"]})
    assert messages.index(result) > messages.index(caller)

    final = messages[-1]
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert final.text.strip()
    assert final.response_metadata.get("finish_reason") == "stop"
    for message in messages:
        assert "<tool_call>" not in _texts(message)
        assert "</tool_call>" not in _texts(message)
    if how in ("stream", "astream"):
        assert streamed > 0
