"""404/400 messages that say what to do: wrong base_url, a model served on another gateway, a misspelt model,
a catalog name sent to a local server. Driven against the replica (its 404 bodies are the gateways' own
shapes: `The model ... does not exist.`, Express's `Cannot POST /chat/completions`); the hint is appended to
the gateway's message, which stays first. Also through both adapters.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from pydantic import SecretStr

from hermes_gateway import GatewayClient, NotFoundError
from hermes_gateway._hints import ROUTE_NOT_FOUND, misspelt_hint
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Fault, Replica

KEY = "sk-hints-0123456789abcdef"
HI = [{"role": "user", "content": "Hi"}]


def _chat(client: GatewayClient, model: str, how: str) -> None:
    request: Any = {"model": model, "messages": HI}
    try:
        if how == "sync":
            client.chat(request)
        elif how == "stream":
            with client.stream(request) as deltas:
                list(deltas)
        else:
            asyncio.run(client.achat(request))
    finally:
        client.close()


HOWS = ["sync", "stream", "async"]


@pytest.mark.parametrize("how", HOWS)
def test_base_url_without_v1_says_to_check_base_url(replica: Replica, how: str) -> None:
    client = GatewayClient("openai", api_key=KEY, base_url=replica.openai.root_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        _chat(client, "hermes3:8b", how)
    message = str(caught.value)
    assert "Cannot POST /chat/completions" in message  # the server's own words first
    assert "check base_url" in message
    assert f"{replica.openai.root_url}/v1" in message


@pytest.mark.parametrize("how", HOWS)
def test_misspelt_model_suggests_the_closest_names(replica: Replica, how: str) -> None:
    client = GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        _chat(client, "hermes-3-llama-3.1-7b", how)
    message = str(caught.value)
    assert "does not exist" in message
    assert "did you mean" in message
    assert "'hermes-3-llama-3.1-70b' (nousresearch/hermes-3-llama-3.1-70b)" in message


@pytest.mark.parametrize("how", HOWS)
def test_a_model_on_another_gateway_says_where(replica: Replica, how: str) -> None:
    client = GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        _chat(client, "nous-hermes-llama2-13b", how)
    assert "not served on aimlapi; it is on gateway='apipie'" in str(caught.value)


def test_a_catalog_name_on_a_local_server_lists_the_names_it_may_have(replica: Replica) -> None:
    replica.openai.enqueue(Fault.error(404, "The model `hermes-3-llama-3.1-8b` does not exist."))
    client = GatewayClient("openai", api_key=KEY, base_url=replica.openai.base_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        _chat(client, "hermes-3-llama-3.1-8b", "sync")
    message = str(caught.value)
    assert "sends the model name unchanged" in message
    assert "'NousResearch/Hermes-3-Llama-3.1-8B'" in message
    assert "'hermes3:8b'" in message


def test_retired_model_keeps_its_replacement_hint(replica: Replica) -> None:
    client = GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        _chat(client, "nous-hermes-2-mixtral-8x7b-dpo", "sync")
    assert "nousresearch/hermes-3-llama-3.1-70b" in str(caught.value)


def test_an_unrelated_name_gets_no_guess() -> None:
    assert misspelt_hint("gpt-4o", "apipie") is None


@pytest.mark.parametrize(
    "body",
    ["Cannot POST /chat/completions", "404 page not found", '{"detail":"Not Found"}', "Not Found"],
)
def test_route_bodies_are_recognised(body: str) -> None:
    assert ROUTE_NOT_FOUND.search(body)


def test_model_bodies_are_not_taken_for_routes() -> None:
    assert not ROUTE_NOT_FOUND.search('{"error": {"message": "The model `x` does not exist.", "code": 404}}')


def test_both_adapters_carry_the_hint(replica: Replica) -> None:
    llm = ChatHermes(
        model="hermes-4-70", gateway="aimlapi", base_url=replica.aimlapi.base_url, api_key=SecretStr(KEY)
    )
    with pytest.raises(NotFoundError, match="did you mean 'hermes-4-70b'"):
        llm.invoke("Hi")
    llm.close()
    with pytest.warns(UserWarning, match="not in the catalog"):
        hermes = Hermes(
            model="hermes-4-70", gateway="aimlapi", base_url=replica.aimlapi.base_url, api_key=KEY
        )
    with pytest.raises(NotFoundError, match="did you mean 'hermes-4-70b'"):
        hermes.chat([ChatMessage(role="user", content="Hi")])
    hermes.close()
