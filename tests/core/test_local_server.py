"""`gateway="openai"`: a local OpenAI-compatible server (vLLM, Ollama, llama.cpp, LM Studio) serving Hermes,
against the replica's openai dialect; and the cost fallback from catalog prices.

Local servers name a model however they were started (vLLM: the Hugging Face path; Ollama: a tag), and the
client sends that name unchanged; the catalog still recognises it, so the guards know the context window.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from hermes_gateway import (
    AuthenticationError,
    ChatRequest,
    ChatResult,
    ContextWindowExceededError,
    GatewayClient,
    StreamAccumulator,
    lookup,
)
from hermes_gateway._catalog import ModelInfo, Price
from tests.replica import Replica

HI = [{"role": "user", "content": "Hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
_OPEN: list[GatewayClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def local(replica: Replica, gateway: str = "openai", **kw: Any) -> GatewayClient:
    kw.setdefault("max_retries", 0)
    client = GatewayClient(gateway, base_url=replica[gateway].base_url, **kw)
    _OPEN.append(client)
    return client


def chat(client: GatewayClient, request: ChatRequest, driver: str) -> ChatResult:
    if driver == "sync":
        return client.chat(request)
    return asyncio.run(client.achat(request))


def streamed(client: GatewayClient, request: ChatRequest, driver: str) -> ChatResult:
    """A stream added up, so a test can compare it with chat()."""
    accumulator = StreamAccumulator(gateway=client.gateway)
    if driver == "sync":
        with client.stream(request) as s:
            accumulator.extend(s)
        return accumulator.result()

    async def go() -> ChatResult:
        async with client.astream(request) as s:
            async for delta in s:
                accumulator.add(delta)
        return accumulator.result()

    return asyncio.run(go())


# -- no key on loopback --------------------------------------------------------------------------------------


def test_no_key_is_needed_and_none_is_sent(replica: Replica, driver: str) -> None:
    """The client asks for no key and sends no Authorization header. (The replica's openai dialect behaves
    like a vLLM started with --api-key and answers 401 to that; a plain Ollama / vLLM would answer.)"""
    client = local(replica, api_key=None)
    with pytest.raises(AuthenticationError) as info:
        chat(client, {"model": "hermes3:8b", "messages": HI}, driver)
    assert info.value.status_code == 401  # the server's answer, not a MissingAPIKeyError before sending
    assert len(replica.openai.requests) == 1
    assert "authorization" not in replica.openai.requests[0].headers


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_to_loopback_needs_no_opt_in(host: str) -> None:
    client = GatewayClient("openai", base_url=f"http://{host}:11434/v1")
    assert client.base_url == f"http://{host}:11434/v1"
    with pytest.raises(ValueError, match="plain http"):
        GatewayClient("openai", base_url="http://192.168.1.20:11434/v1")


# -- serving Hermes locally ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "canonical", "window"),
    [
        ("hermes3:8b", "hermes-3-llama-3.1-8b", 131072),  # Ollama tag
        ("NousResearch/Hermes-3-Llama-3.1-8B", "hermes-3-llama-3.1-8b", 131072),  # vLLM: the HF path
        ("NousResearch/Hermes-2-Pro-Llama-3-8B", "hermes-2-pro-llama-3-8b", 8192),
        ("NousResearch/Hermes-4-70B", "hermes-4-70b", 131072),
    ],
)
def test_local_model_names_are_sent_as_given_and_known_to_the_catalog(
    replica: Replica, driver: str, model: str, canonical: str, window: int
) -> None:
    info = lookup(model)
    assert info is not None
    assert info.name == canonical
    assert info.context_window == window
    client = local(replica, api_key="ollama")  # what Ollama's docs pass; any string works
    result = chat(client, {"model": model, "messages": HI}, driver)
    assert replica.openai.requests[-1].json["model"] == model
    assert result.content
    assert result.gateway == "openai"
    assert result.finish_reason == "stop"
    assert streamed(client, {"model": model, "messages": HI}, driver).content == result.content


def test_native_tools_on_a_local_hermes(replica: Replica, driver: str) -> None:
    client = local(replica, api_key="sk-local")
    request: ChatRequest = {
        "model": "NousResearch/Hermes-3-Llama-3.1-8B",
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": TOOLS,
    }
    result = chat(client, request, driver)
    assert replica.openai.requests[-1].json["tools"] == TOOLS  # the catalog says native tools work locally
    assert [call.name for call in result.tool_calls] == ["get_weather"]
    assert json.loads(result.tool_calls[0].arguments)["city"]
    assert result.finish_reason == "tool_calls"


def test_vllm_reasoning_content_comes_out_as_reasoning(replica: Replica, driver: str) -> None:
    client = local(replica, api_key="sk-local")
    request: ChatRequest = {"model": "NousResearch/Hermes-4-70B", "messages": HI}
    result = chat(client, request, driver)
    assert result.reasoning
    assert "<think>" not in result.content
    assert streamed(client, request, driver).reasoning == result.reasoning


def test_the_context_guard_knows_local_windows(replica: Replica, driver: str) -> None:
    client = local(replica, api_key="sk-local")
    request: ChatRequest = {
        "model": "NousResearch/Hermes-2-Pro-Llama-3-8B",
        "messages": [{"role": "user", "content": "abcd " * 10_000}],
    }
    with pytest.raises(ContextWindowExceededError) as info:
        chat(client, request, driver)
    assert info.value.context_window == 8192
    assert info.value.gateway == "openai"
    assert not replica.openai.requests


# -- cost ----------------------------------------------------------------------------------------------------


def priced(monkeypatch: pytest.MonkeyPatch, prices: dict[str, Price]) -> None:
    """Give the catalog's Hermes 3 entries prices (the built-in catalog documents none)."""

    def lookup_with_prices(name: str) -> ModelInfo | None:
        info = lookup(name)
        return dataclasses.replace(info, prices=prices) if info is not None else None

    monkeypatch.setattr("hermes_gateway._client.lookup", lookup_with_prices)  # one lookup per request


def test_cost_is_none_when_neither_the_gateway_nor_the_catalog_knows_it(
    replica: Replica, driver: str
) -> None:
    result = chat(local(replica, api_key="sk-local"), {"model": "hermes3:8b", "messages": HI}, driver)
    assert result.usage is not None
    assert result.usage.prompt_tokens > 0
    assert result.usage.cost_usd is None  # never a made-up 0


def test_cost_comes_from_catalog_prices_when_the_gateway_sends_none(
    replica: Replica, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    priced(monkeypatch, {"openai": Price(input_per_mtok=2.0, output_per_mtok=6.0)})
    client = local(replica, api_key="sk-local")
    for result in (
        chat(client, {"model": "hermes3:8b", "messages": HI}, driver),
        streamed(client, {"model": "hermes3:8b", "messages": HI}, driver),
    ):
        usage = result.usage
        assert usage is not None
        assert usage.prompt_tokens > 0
        assert usage.completion_tokens > 0
        expected = (usage.prompt_tokens * 2.0 + usage.completion_tokens * 6.0) / 1_000_000
        assert usage.cost_usd == pytest.approx(expected)


def test_the_gateways_own_cost_wins_over_catalog_prices(
    replica: Replica, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    priced(monkeypatch, {"apipie": Price(input_per_mtok=1000.0, output_per_mtok=1000.0)})
    result = chat(
        local(replica, "apipie", api_key="sk-x"), {"model": "hermes-3-llama-3.1-70b", "messages": HI}, driver
    )
    usage = result.usage
    assert usage is not None
    assert usage.cost_usd is not None
    assert usage.raw["cost"] is not None
    assert usage.cost_usd == pytest.approx(float(usage.raw["cost"]))  # APIpie's usage.cost, not the catalog's
    assert usage.cost_usd < usage.total_tokens * 1000.0 / 1_000_000
