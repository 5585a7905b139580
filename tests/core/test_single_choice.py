"""`n` > 1 never drops a choice. A non-streamed reply keeps every choice: the core's `ChatResult.others`,
and in LangChain one generation per choice (each with its own tool calls; usage once, on the first). A
stream carries one choice, and LlamaIndex's ChatResponse one message: there `n` > 1 is refused before any
I/O, with what to do instead. Counted at the replica.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from langchain_core.messages import AIMessage, HumanMessage
from llama_index.core.llms import ChatMessage
from pydantic import SecretStr

from hermes_gateway import BadRequestError, GatewayClient
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Replica

KEY = "sk-choices-0123456789"
HI: Any = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}


def _core(replica: Replica) -> GatewayClient:
    return GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url)


@pytest.mark.parametrize("how", ["chat", "achat"])
def test_core_keeps_every_choice(replica: Replica, how: str) -> None:
    client = _core(replica)
    request: Any = {**HI, "n": 3}
    result = client.chat(request) if how == "chat" else asyncio.run(client.achat(request))
    client.close()
    assert [r.json.get("n") for r in replica.aimlapi.requests] == [3]  # one request for three choices
    assert len(result.others) == 2
    for choice in (result, *result.others):
        assert choice.content
        assert choice.finish_reason == "stop"
    assert result.usage is not None
    assert result.usage.total_tokens > 0
    assert all(other.usage is None for other in result.others)  # the reply's usage, counted once


def test_core_refuses_a_streamed_n_above_one(replica: Replica) -> None:
    client = _core(replica)
    with (
        pytest.raises(BadRequestError, match=r"n=3 asks for 3 choices.*without streaming"),
        client.stream({**HI, "n": 3}) as deltas,
    ):
        list(deltas)
    client.close()
    assert replica.aimlapi.requests == []


TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_chat_hermes_gives_one_generation_per_choice_each_with_its_tool_calls(replica: Replica) -> None:
    llm = ChatHermes(
        model="hermes-3-llama-3.1-70b",
        gateway="aimlapi",
        base_url=replica.aimlapi.base_url,
        api_key=SecretStr(KEY),
        tool_mode="native",
    )
    result = llm.generate([[HumanMessage("What is the weather in Oslo?")]], tools=[TOOL], n=2)
    [generations] = result.generations
    assert len(generations) == 2
    for generation in generations:
        message = generation.message
        assert isinstance(message, AIMessage)
        [call] = message.tool_calls
        assert call["name"] == "get_weather"
        assert "oslo" in call["args"]["city"].lower()
    ids = [g.message.tool_calls[0]["id"] for g in generations if isinstance(g.message, AIMessage)]
    assert len(set(ids)) == 2  # each choice's call has its own id
    usages = [g.message.usage_metadata for g in generations if isinstance(g.message, AIMessage)]
    assert usages[0] is not None
    assert usages[0]["total_tokens"] > 0
    assert usages[1] is None  # usage once
    assert len(replica.aimlapi.requests) == 1
    llm.close()


def test_chat_hermes_refuses_a_streamed_n_as_a_non_retryable_invalid_request(replica: Replica) -> None:
    llm = ChatHermes(gateway="apipie", base_url=replica.apipie.base_url, api_key=SecretStr(KEY))
    with pytest.raises(ModelInvalidRequestError) as caught:
        list(llm.stream("Hi", n=2))
    assert isinstance(caught.value, BadRequestError)
    assert caught.value.is_retryable is False
    llm.close()
    assert replica.apipie.requests == []


def test_hermes_refuses_it(replica: Replica) -> None:
    llm = Hermes(gateway="apipie", base_url=replica.apipie.base_url, api_key=KEY, additional_kwargs={"n": 2})
    with pytest.raises(BadRequestError, match=r"n=2 .*ChatResponse holds one message"):
        llm.chat([ChatMessage(role="user", content="Hi")])
    with pytest.raises(BadRequestError, match="n=2"):
        list(llm.stream_chat([ChatMessage(role="user", content="Hi")]))
    llm.close()
    assert replica.apipie.requests == []
