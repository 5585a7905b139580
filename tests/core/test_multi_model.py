"""APIpie multi-model requests (`model="a,b"` → a JSON array of completions, gateways.md Corrections and
docs/api/Chat/chatcompletions.md): never dropped. Core: `ChatResult.others`; LangChain: one generation per
model; LlamaIndex: a clear error (its ChatResponse holds one message)."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from hermes_gateway import GatewayClient
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Replica

TWO = "hermes-4-70b,hermes-3-llama-3.1-70b"
USER = [{"role": "user", "content": "Name one planet."}]


def test_every_completion_of_a_multi_model_reply_is_kept(replica: Replica) -> None:
    client = GatewayClient("apipie", api_key="k", base_url=replica.apipie.base_url)
    result = client.chat({"model": TWO, "messages": USER})
    assert replica.apipie.requests[-1].json["model"] == "hermes-4-70b,hermes-3-llama-3-1-70b"  # ids resolved
    assert result.model == "nousresearch/hermes-4-70b"
    assert result.content
    (other,) = result.others
    assert other.model == "nousresearch/hermes-3-llama-3.1-70b"
    assert other.content
    assert other.usage is not None
    assert other.usage.cost_usd is not None  # its own usage, not the first model's
    assert other.finish_reason is not None


def test_a_single_model_reply_has_no_others(replica: Replica) -> None:
    client = GatewayClient("apipie", api_key="k", base_url=replica.apipie.base_url)
    assert client.chat({"model": "hermes-4-70b", "messages": USER}).others == []


@pytest.mark.parametrize(
    ("gateway", "model", "stream", "match"),
    [
        ("apipie", TWO, True, "not a stream"),
        ("aimlapi", TWO, False, "aimlapi takes one model"),
        ("apipie", ",".join(["hermes-4-70b"] * 6), False, "1 to 5"),
        ("apipie", "hermes-4-70b,", False, "1 to 5"),
    ],
)
def test_multi_model_misuse_is_refused_before_sending(
    replica: Replica, gateway: str, model: str, stream: bool, match: str
) -> None:
    client = GatewayClient(gateway, api_key="k", base_url=replica[gateway].base_url)
    call = client.stream if stream else client.chat
    with pytest.raises(ValueError, match=match):
        call({"model": model, "messages": USER})
    assert replica[gateway].requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_langchain_gets_one_generation_per_model(replica: Replica, mode: str) -> None:
    llm = ChatHermes(model=TWO, gateway="apipie", base_url=replica.apipie.base_url, api_key=SecretStr("k"))
    messages = [[HumanMessage("Name one planet.")]]
    out = llm.generate(messages) if mode == "sync" else asyncio.run(llm.agenerate(messages))
    generations = out.generations[0]
    assert len(generations) == 2
    names = [g.message.response_metadata["model_name"] for g in generations]  # type: ignore[attr-defined]
    assert names == ["hermes-4-70b", "hermes-3-llama-3.1-70b"]
    assert all(g.message.content for g in generations)  # type: ignore[attr-defined]
    assert all(g.message.usage_metadata for g in generations)  # type: ignore[attr-defined]


def test_llamaindex_names_the_limitation() -> None:
    with pytest.raises(ValueError, match="multi-model request") as caught:
        Hermes(model=TWO, gateway="apipie", api_key="k")
    assert "ChatHermes" in str(caught.value)
