"""ChatHermes with a gateway list: validation, secrets, and failover driven by replica faults (no cassettes).

APIpie answers 503 with `max_retries=0`, so the request goes to AI/ML API at once; every test runs sync and
async, invoke and stream, and checks which gateway the reply says served it and what each gateway was sent
(each gets its own model id: the core resolves the name per gateway).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps, loads
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import SecretStr, ValidationError

from hermes_gateway import GatewayClient, ServerError
from langchain_hermes import ChatHermes
from tests.langchain._support import MODES, chunk, finish, invoke, merged, stream
from tests.replica import Fault, Replica

KEYS = {"apipie": "sk-failover-apipie-0123456789", "aimlapi": "sk-failover-aimlapi-9876543210"}
BOTH: list[str] = ["apipie", "aimlapi"]


def _llm(replica: Replica, gateways: Any = BOTH, **kw: Any) -> ChatHermes:
    names = [gateways] if isinstance(gateways, str) else gateways
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key", {g: KEYS[g] for g in names})
    kw.setdefault("base_url", {g: replica[g].base_url for g in names})
    return ChatHermes(model="hermes-3-llama-3.1-70b", gateway=gateways, **kw)


# --- construction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gateway": []}, "at least one gateway"),
        ({"gateway": ["apipie", "apipie"]}, "twice"),
        ({"gateway": ["apipie", "openrouter"]}, "openrouter"),
        ({"gateway": "openrouter"}, "openrouter"),
        ({"gateway": BOTH, "api_key": "sk-one-key-for-all-0123456789"}, "mapping per gateway"),
        ({"gateway": BOTH, "base_url": "http://localhost:8000/v1"}, "mapping per gateway"),
        ({"gateway": BOTH, "api_key": {"openai": "x"}}, r"not in gateway=.*\['openai'\]"),
        ({"gateway": ["apipie"], "base_url": {"aimlapi": "http://localhost:1/v1"}}, "not in gateway="),
        ({"gateway": ["aimlapi", "openai"]}, "needs base_url"),
        ({"gateway": BOTH, "routing": "price"}, "APIpie options"),
        ({"gateway": BOTH, "provider": "together"}, "one gateway"),
    ],
)
def test_gateway_list_is_validated(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        ChatHermes(**kwargs)


def test_gateway_list_builds_one_client_with_routes_in_order() -> None:
    llm = ChatHermes(
        gateway=("aimlapi", "openai"),  # type: ignore[arg-type]  # any sequence is accepted
        base_url={"openai": "http://localhost:8000/v1"},
    )
    assert llm.gateway == ["aimlapi", "openai"]
    assert llm.gateways == ("aimlapi", "openai")
    client = llm._get_client()
    assert isinstance(client, GatewayClient)
    assert client.gateways == ("aimlapi", "openai")
    assert client.clients[1].base_url == "http://localhost:8000/v1"
    assert llm._get_ls_params()["ls_provider"] == "aimlapi"
    llm.close()


def test_per_gateway_keys_never_in_repr_or_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = ChatHermes(gateway=BOTH, api_key=KEYS)  # type: ignore[arg-type]  # plain strings become SecretStr
    assert isinstance(llm.api_key, dict)
    assert {g: k.get_secret_value() for g, k in llm.api_key.items()} == KEYS
    texts = (
        repr(llm),
        str(llm),
        dumps(llm),
        json.dumps(dumpd(llm)),
        llm.model_dump_json(),
        str(llm.asdict()),
    )
    for text in texts:
        for key in KEYS.values():
            assert key not in text
    assert dumpd(llm)["kwargs"]["api_key"] == {
        "apipie": {"lc": 1, "type": "secret", "id": ["APIPIE_API_KEY"]},
        "aimlapi": {"lc": 1, "type": "secret", "id": ["AIMLAPI_API_KEY"]},
    }
    assert repr(llm._get_client()).count("sk-") == 0
    llm.close()
    restored = loads(
        dumps(llm),
        secrets_map={"APIPIE_API_KEY": KEYS["apipie"], "AIMLAPI_API_KEY": KEYS["aimlapi"]},
        valid_namespaces=["langchain_hermes"],
        allowed_objects=[ChatHermes],
    )
    assert isinstance(restored, ChatHermes)
    assert restored.gateway == BOTH
    assert isinstance(restored.api_key, dict)
    assert {g: k.get_secret_value() for g, k in restored.api_key.items()} == KEYS


def test_keys_for_a_gateway_list_come_from_each_gateways_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_API_KEY", KEYS["aimlapi"])
    llm = ChatHermes(gateway=BOTH, api_key={"apipie": SecretStr(KEYS["apipie"])})
    assert isinstance(llm.api_key, dict)
    assert {g: k.get_secret_value() for g, k in llm.api_key.items()} == KEYS
    assert KEYS["aimlapi"] not in dumps(llm)
    monkeypatch.delenv("AIMLAPI_API_KEY")
    assert ChatHermes(gateway=BOTH).api_key is None  # no key anywhere: reported at the first request


def test_one_item_list_is_the_same_as_the_name() -> None:
    single = ChatHermes(gateway="aimlapi", api_key="sk-one-item-0123456789", model="hermes-4-70b")  # type: ignore[arg-type]
    listed = ChatHermes(gateway=["aimlapi"], api_key="sk-one-item-0123456789", model="hermes-4-70b")  # type: ignore[arg-type]
    assert listed.gateways == single.gateways == ("aimlapi",)
    assert listed._client_key() == single._client_key()
    assert listed.lc_secrets == single.lc_secrets == {"api_key": "AIMLAPI_API_KEY"}
    assert listed._get_ls_params() == single._get_ls_params()
    assert listed.profile == single.profile
    messages: list[BaseMessage] = [HumanMessage("Hi")]
    assert listed._prepare(messages, None, {}) == single._prepare(messages, None, {})
    for llm in (single, listed):
        client = llm._get_client()
        assert type(client) is GatewayClient
        assert client.gateway == "aimlapi"
        llm.close()


@pytest.mark.parametrize("mode", MODES)
def test_one_item_list_talks_to_the_gateway_like_the_name(replica: Replica, mode: str) -> None:
    replies, bodies = [], []
    for gateway in ("aimlapi", ["aimlapi"]):
        llm = _llm(
            replica, gateway, api_key=KEYS["aimlapi"], base_url=replica.aimlapi.base_url, temperature=0
        )
        replies.append(invoke(llm, "Say hello", mode))
        replies.append(merged(stream(llm, "Say hello", mode)))
        llm.close()
        bodies.append([r.json for r in replica.aimlapi.requests])
        replica.reset()
    assert bodies[0] == bodies[1]
    assert [r.content for r in replies[:2]] == [r.content for r in replies[2:]]
    for reply in replies:
        assert reply.response_metadata["gateway"] == "aimlapi"
    for a, b in ((replies[0], replies[2]), (replies[1], replies[3])):
        # latency: measured by the client when the gateway reports none; client_request_id: new per call
        timing = {"latency_ms", "client_request_id"}
        assert {k: v for k, v in a.response_metadata.items() if k not in timing} == {
            k: v for k, v in b.response_metadata.items() if k not in timing
        }
        assert a.usage_metadata == b.usage_metadata


# --- failover through the replica -------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_invoke_fails_over_to_aimlapi(replica: Replica, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    llm = _llm(replica)
    reply = invoke(llm, "Say hello", mode)
    llm.close()
    assert isinstance(reply, AIMessage)
    assert reply.text
    assert reply.response_metadata["gateway"] == "aimlapi"
    assert reply.usage_metadata is not None
    assert [r.json["model"] for r in replica.apipie.requests] == ["hermes-3-llama-3-1-70b"]
    assert [r.json["model"] for r in replica.aimlapi.requests] == ["nousresearch/hermes-3-llama-3.1-70b"]
    assert replica.aimlapi.requests[0].headers["authorization"] == f"Bearer {KEYS['aimlapi']}"


@pytest.mark.parametrize("mode", MODES)
def test_stream_fails_over_to_aimlapi(replica: Replica, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    llm = _llm(replica)
    chunks = stream(llm, "Say hello", mode)
    llm.close()
    full = merged(chunks)
    assert len(chunks) > 2
    assert full.text
    assert full.response_metadata["gateway"] == "aimlapi"
    assert full.usage_metadata is not None
    assert len(replica.apipie.requests) == 1
    assert len(replica.aimlapi.requests) == 1
    assert replica.aimlapi.requests[0].json["stream"] is True


@pytest.mark.parametrize("mode", MODES)
def test_stream_without_usage_still_names_the_gateway_that_served(replica: Replica, mode: str) -> None:
    """No usage on the stream: the served gateway comes from the failover stream itself."""
    replica.apipie.enqueue(Fault.error(503))
    replica.aimlapi.enqueue(
        Fault.script_chunks([chunk("Hello", role="assistant"), chunk(" there"), finish()])
    )
    llm = _llm(replica)
    full = merged(stream(llm, "Say hello", mode))
    llm.close()
    assert full.text == "Hello there"
    assert full.usage_metadata is None
    assert full.response_metadata["gateway"] == "aimlapi"


@pytest.mark.parametrize("mode", MODES)
def test_first_gateway_serves_when_healthy(replica: Replica, mode: str) -> None:
    llm = _llm(replica)
    assert invoke(llm, "Say hello", mode).response_metadata["gateway"] == "apipie"
    assert merged(stream(llm, "Say hello", mode)).response_metadata["gateway"] == "apipie"
    llm.close()
    assert len(replica.apipie.requests) == 2
    assert replica.aimlapi.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_every_gateway_failing_raises_the_last_error(replica: Replica, mode: str) -> None:
    replica.apipie.enqueue(Fault.error(503))
    replica.aimlapi.enqueue(Fault.error(502))
    llm = _llm(replica)
    with pytest.raises(ServerError) as caught:
        invoke(llm, "Say hello", mode)
    llm.close()
    assert caught.value.status_code == 502
    assert [e.status_code for e in caught.value.attempts] == [503, 502]
