"""Hermes with a gateway list: validation, secrets, and failover driven by replica faults (no cassettes).

APIpie answers 503 with `max_retries=0`, so the request goes to AI/ML API at once. Every entry point runs
(chat / stream_chat / complete / stream_complete, sync and async); the reply names the gateway that served
it in `raw["gateway"]` and `additional_kwargs["gateway"]`, and each gateway got its own model id.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, CompletionResponse
from pydantic import ValidationError

from hermes_gateway import GatewayClient, ServerError
from llamaindex_hermes import Hermes
from tests.langchain._support import chunk, finish
from tests.replica import Fault, Replica

KEYS = {"apipie": "sk-failover-apipie-0123456789", "aimlapi": "sk-failover-aimlapi-9876543210"}
BOTH = ["apipie", "aimlapi"]
MODEL = "hermes-3-llama-3.1-70b"
HI = [ChatMessage(role="user", content="Say hello")]
ENTRY_POINTS = ["chat", "stream_chat", "complete", "stream_complete"]
MODES = ["sync", "async"]


def _llm(replica: Replica, gateways: Any = BOTH, **kw: Any) -> Hermes:
    names = [gateways] if isinstance(gateways, str) else gateways
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key", {g: KEYS[g] for g in names})
    kw.setdefault("base_url", {g: replica[g].base_url for g in names})
    return Hermes(model=MODEL, gateway=gateways, **kw)


def _call(llm: Hermes, entry: str, mode: str) -> Any:
    """The final `ChatResponse` / `CompletionResponse` of one entry point (streams consumed to the end)."""
    if mode == "sync":
        if entry == "chat":
            return llm.chat(HI)
        if entry == "complete":
            return llm.complete("Say hello")
        responses = list(llm.stream_chat(HI) if entry == "stream_chat" else llm.stream_complete("Say hello"))
        assert len(responses) > 1
        return responses[-1]

    async def run() -> Any:
        try:
            if entry == "chat":
                return await llm.achat(HI)
            if entry == "complete":
                return await llm.acomplete("Say hello")
            gen = await (
                llm.astream_chat(HI) if entry == "stream_chat" else llm.astream_complete("Say hello")
            )
            responses = [r async for r in gen]
            assert len(responses) > 1
            return responses[-1]
        finally:
            await llm.aclose()

    return asyncio.run(run())


# --- construction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gateway": []}, "at least one gateway"),
        ({"gateway": ["apipie", "apipie"]}, "twice"),
        ({"gateway": ["apipie", "openrouter"]}, "unknown gateway 'openrouter'"),
        ({"gateway": BOTH, "api_key": "sk-one-key-for-all-0123456789"}, "mapping per gateway"),
        ({"gateway": BOTH, "base_url": "http://localhost:8000/v1"}, "mapping per gateway"),
        ({"gateway": BOTH, "api_key": {"openai": "x"}}, r"not in gateway=.*\['openai'\]"),
        ({"gateway": "apipie", "base_url": {"aimlapi": "http://localhost:1/v1"}}, "not in gateway="),
    ],
)
def test_gateway_list_is_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Hermes(model=MODEL, **kwargs)


def test_gateway_list_builds_one_client_with_routes_in_order() -> None:
    llm = Hermes(model=MODEL, gateway=("aimlapi", "openai"), base_url={"openai": "http://localhost:8000/v1"})
    assert llm.gateways == ("aimlapi", "openai")
    client = llm._get_client()
    assert isinstance(client, GatewayClient)
    assert client.gateways == ("aimlapi", "openai")
    assert client.clients[1].base_url == "http://localhost:8000/v1"
    llm.close()


def test_per_gateway_keys_never_in_repr_or_serialisation() -> None:
    llm = Hermes(model=MODEL, gateway=BOTH, api_key=KEYS)
    assert isinstance(llm.api_key, dict)
    assert {g: k.get_secret_value() for g, k in llm.api_key.items()} == KEYS
    client = llm._get_client()
    texts = (repr(llm), str(llm), llm.to_json(), str(llm.to_dict()), llm.model_dump_json(), repr(client))
    for text in texts:
        for key in KEYS.values():
            assert key not in text
    llm.close()


def test_num_output_respects_every_gateways_short_default() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the model is retired on AI/ML API
        listed = Hermes(model="nous-hermes-2-mixtral-8x7b-dpo", gateway=BOTH)
    assert listed.metadata.num_output == 512  # AI/ML API may serve, and answers 512 tokens unless asked
    assert Hermes(model="nous-hermes-2-mixtral-8x7b-dpo", gateway="apipie").metadata.num_output > 512


def test_json_response_format_is_decided_per_route() -> None:
    # issue 12: each route gets what it takes (APIpie the <schema> prompt, AI/ML API response_format)
    llm = Hermes(
        model=MODEL, gateway=["aimlapi", "apipie"], api_key={"aimlapi": "k" * 20, "apipie": "k" * 20}
    )
    request = llm._build_request(HI, {"response_format": {"type": "json_object"}})
    plan = llm._get_client()._plan(request, "auto", stream=False)
    aiml, apipie = (attempt.prepared.body for attempt in plan)
    assert aiml["response_format"] == {"type": "json_object"}
    assert "response_format" not in apipie
    assert "<schema>" in apipie["messages"][0]["content"]
    llm.close()


def test_one_item_list_is_the_same_as_the_name() -> None:
    single = Hermes(model="hermes-4-70b", gateway="aimlapi", api_key="sk-one-item-0123456789")
    listed = Hermes(model="hermes-4-70b", gateway=["aimlapi"], api_key="sk-one-item-0123456789")
    assert listed.gateways == single.gateways == ("aimlapi",)
    assert listed.metadata == single.metadata
    top_k = {"extra_body": {"top_k": 5}}
    assert listed._build_request(HI, top_k) == single._build_request(HI, top_k)
    for llm in (single, listed):
        client = llm._get_client()
        assert type(client) is GatewayClient
        assert client.gateway == "aimlapi"
        llm.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", ["chat", "stream_chat"])
def test_one_item_list_talks_to_the_gateway_like_the_name(replica: Replica, entry: str, mode: str) -> None:
    replies, bodies = [], []
    for gateway in ("aimlapi", ["aimlapi"]):
        llm = _llm(
            replica, gateway, api_key=KEYS["aimlapi"], base_url=replica.aimlapi.base_url, temperature=0
        )
        replies.append(_call(llm, entry, mode))
        llm.close()
        bodies.append([r.json for r in replica.aimlapi.requests])
        replica.reset()
    assert bodies[0] == bodies[1]
    assert replies[0].message.content == replies[1].message.content
    timing = {"latency_ms"}  # measured by the client when the gateway reports none
    per_call = {"usage", "client_request_id"}  # usage compared below; the correlation id is new per call
    raw = [{k: v for k, v in (r.raw or {}).items() if k not in per_call} for r in replies]
    assert raw[0] == raw[1]
    assert raw[0]["gateway"] == "aimlapi"
    usage = [{k: v for k, v in r.raw["usage"].items() if k not in timing} for r in replies]
    assert usage[0] == usage[1]


# --- failover through the replica -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_fails_over_to_aimlapi(replica: Replica, entry: str, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    llm = _llm(replica)
    response = _call(llm, entry, mode)
    llm.close()
    assert response.text if isinstance(response, CompletionResponse) else response.message.content
    assert response.raw is not None
    assert response.raw["gateway"] == "aimlapi"
    assert response.additional_kwargs["gateway"] == "aimlapi"
    assert response.additional_kwargs["total_tokens"] > 0
    assert [r.json["model"] for r in replica.apipie.requests] == ["hermes-3-llama-3-1-70b"]
    assert [r.json["model"] for r in replica.aimlapi.requests] == ["nousresearch/hermes-3-llama-3.1-70b"]
    assert replica.aimlapi.requests[0].headers["authorization"] == f"Bearer {KEYS['aimlapi']}"


@pytest.mark.parametrize("mode", MODES)
def test_stream_without_usage_still_names_the_gateway_that_served(replica: Replica, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    replica.aimlapi.enqueue(
        Fault.script_chunks([chunk("Hello", role="assistant"), chunk(" there"), finish()])
    )
    llm = _llm(replica)
    response = _call(llm, "stream_chat", mode)
    llm.close()
    assert response.message.content == "Hello there"
    assert "usage" not in response.raw
    assert response.raw["gateway"] == "aimlapi"
    assert response.additional_kwargs["gateway"] == "aimlapi"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", ["chat", "stream_chat"])
def test_first_gateway_serves_when_healthy(replica: Replica, entry: str, mode: str) -> None:
    llm = _llm(replica)
    response = _call(llm, entry, mode)
    llm.close()
    assert response.raw is not None
    assert response.raw["gateway"] == "apipie"
    assert response.additional_kwargs["gateway"] == "apipie"
    assert len(replica.apipie.requests) == 1
    assert replica.aimlapi.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", ["chat", "stream_chat"])
def test_every_gateway_failing_raises_the_last_error(replica: Replica, entry: str, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    replica.aimlapi.enqueue(Fault.error(502))
    llm = _llm(replica)
    with pytest.raises(ServerError) as caught:
        _call(llm, entry, mode)
    llm.close()
    assert caught.value.status_code == 502
    assert [e.status_code for e in caught.value.attempts] == [503, 502]
