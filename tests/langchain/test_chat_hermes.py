"""ChatHermes end to end against the loopback replica: construction, the client, invoke and stream.

Every test drives the sync and the async path. The replica answers from its rule-based brain, or exactly what
a test scripts (`Fault.script_chunks`), so gateway quirks are reproduced byte for byte: cumulative usage
repeated on several chunks, per-call overrides, local OpenAI-compatible servers.
"""

from __future__ import annotations

import asyncio
import copy
import json
import pickle
from typing import Any

import pytest
from langchain_core.load import dumpd, dumps
from langchain_core.messages import AIMessage
from pydantic import SecretStr

from hermes_gateway import AuthenticationError, MissingAPIKeyError
from langchain_hermes import ChatHermes
from tests.langchain._support import (
    MODES,
    SECRET,
    chunk,
    finish,
    get_weather,
    invoke,
    merged,
    stream,
)
from tests.replica import Fault, Replica

# --- construction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"gateway": "openrouter"}, "gateway"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"tool_mode": "xml"}, "tool_mode"),
        ({"routing": "cheapest"}, "routing"),
        ({"gateway": "aimlapi", "routing": "price"}, "APIpie"),
        ({"gateway": "openai"}, "base_url"),
        ({"temprature": 0.5}, "temprature"),
        ({"model_kwargs": {"temperature": 1}}, "temperature"),
        ({"model": "  "}, "model"),
    ],
)
def test_bad_parameters_are_value_errors_at_construction(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        ChatHermes(**kwargs)


def test_missing_key_is_reported_at_the_first_call_naming_the_env_var(replica: Replica) -> None:
    llm = ChatHermes(gateway="aimlapi", base_url=replica.base_url("aimlapi"))  # constructs without a key
    assert llm.api_key is None
    with pytest.raises(MissingAPIKeyError, match="AIMLAPI_API_KEY"):
        llm.invoke("hi")
    assert replica.aimlapi.requests == []


def test_key_from_env_and_never_in_repr_or_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIPIE_API_KEY", SECRET)
    llm = ChatHermes()
    assert isinstance(llm.api_key, SecretStr)
    assert llm.api_key.get_secret_value() == SECRET
    for text in (repr(llm), str(llm), dumps(llm), json.dumps(dumpd(llm)), str(llm.asdict())):
        assert SECRET not in text
    assert dumpd(llm)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["APIPIE_API_KEY"]}
    assert llm.lc_secrets == {"api_key": "APIPIE_API_KEY"}
    assert ChatHermes(gateway="aimlapi").lc_secrets == {"api_key": "AIMLAPI_API_KEY"}


@pytest.mark.parametrize("mode", MODES)
def test_one_client_per_model_reused_and_not_copied_or_pickled(make_llm: Any, mode: str) -> None:
    llm = make_llm()
    invoke(llm, "Hello", mode)
    client = llm._get_client()
    invoke(llm, "Hello", mode)
    stream(llm, "Hello", mode)
    assert llm._get_client() is client
    assert "_slot" not in json.dumps(dumpd(llm))
    for twin in (pickle.loads(pickle.dumps(llm)), copy.deepcopy(llm)):
        assert twin == llm
        assert twin._slot.client is None
        assert invoke(twin, "Hello", mode).content  # builds its own client
        assert twin._get_client() is not client
    edited = llm.model_copy(update={"timeout": 5.0})
    assert edited._get_client() is not client  # connection settings changed: a new client
    assert llm._get_client() is client


# --- invoke / stream -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("gateway", "model"), [("apipie", "hermes-3-llama-3.1-70b"), ("aimlapi", "hermes-4-70b")]
)
def test_invoke_metadata_and_usage(make_llm: Any, mode: str, gateway: str, model: str) -> None:
    msg = invoke(make_llm(gateway, model), "Hello", mode)
    assert isinstance(msg, AIMessage)
    assert msg.text.startswith("Hello!")
    assert msg.usage_metadata is not None
    assert (
        msg.usage_metadata["total_tokens"]
        == msg.usage_metadata["input_tokens"] + msg.usage_metadata["output_tokens"]
    )
    meta = msg.response_metadata
    assert meta["model_name"] == model
    assert meta["model_provider"] == "hermes"
    assert meta["gateway"] == gateway
    assert meta["finish_reason"] == "stop"
    assert isinstance(meta["cost_usd"], float)
    assert meta["cost_usd"] > 0
    assert isinstance(meta["latency_ms"], float)
    assert meta["id"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("gateway", "model"), [("apipie", "hermes-3-llama-3.1-70b"), ("aimlapi", "hermes-4-70b")]
)
def test_stream_usage_once_metadata_on_the_last_chunk(
    make_llm: Any, mode: str, gateway: str, model: str
) -> None:
    llm = make_llm(gateway, model)
    chunks = stream(llm, "Write me 2 haikus. Only include the haikus.", mode)
    assert len(chunks) > 3
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert chunks[-1].chunk_position == "last"
    assert chunks[-1].usage_metadata is not None
    full = merged(chunks)
    assert full.usage_metadata == chunks[-1].usage_metadata
    assert full.response_metadata["model_name"] == model
    assert full.response_metadata["finish_reason"] == "stop"
    assert full.content == invoke(llm, "Write me 2 haikus. Only include the haikus.", mode).content


@pytest.mark.parametrize("mode", MODES)
def test_repeated_cumulative_usage_is_counted_once(make_llm: Any, replica: Replica, mode: str) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    replica.apipie.enqueue(
        Fault.script_chunks(
            [
                chunk("Hel", role="assistant", usage={**usage, "completion_tokens": 1, "total_tokens": 6}),
                {**chunk("lo"), "usage": usage},
                {**finish(), "usage": usage},
                {"id": "chatcmpl-scripted", "choices": [], "usage": {**usage, "cost": "0.00019950"}},
                "[DONE]",
            ]
        )
    )
    chunks = stream(make_llm(), "Hello", mode)
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    full = merged(chunks)
    assert full.content == "Hello"
    assert full.usage_metadata == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    assert full.response_metadata["cost_usd"] == pytest.approx(0.0001995)


def test_stream_usage_false_leaves_usage_off(make_llm: Any) -> None:
    chunks = list(make_llm(stream_usage=False).stream("Hello"))
    assert all(c.usage_metadata is None for c in chunks)
    assert chunks[-1].response_metadata["finish_reason"] == "stop"


@pytest.mark.parametrize("mode", MODES)
def test_per_call_model_override(make_llm: Any, replica: Replica, mode: str) -> None:
    llm = make_llm("aimlapi", "hermes-4-70b")
    msg = invoke(llm, "Hello", mode, model="hermes-3-llama-3.1-405b")
    assert msg.response_metadata["model_name"] == "hermes-3-llama-3.1-405b"
    assert replica.aimlapi.requests[-1].json["model"] == "nousresearch/hermes-3-llama-3.1-405b"
    full = merged(stream(llm, "Hello", mode, model="hermes-3-llama-3.1-70b"))
    assert full.response_metadata["model_name"] == "hermes-3-llama-3.1-70b"
    assert replica.aimlapi.requests[-1].json["model"] == "nousresearch/hermes-3-llama-3.1-70b"
    assert llm._get_ls_params(model="x")["ls_model_name"] == "x"


def test_request_parameters_reach_the_wire(make_llm: Any, replica: Replica) -> None:
    llm = make_llm(
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        stop=["END"],
        provider="together",
        routing="price",
        model_kwargs={"seed": 7},
        extra_body={"top_k": 40},
    )
    llm.invoke("Hello", extra_body={"repetition_penalty": 1.1})  # issue 12: extensions via extra_body only
    body = replica.apipie.requests[-1].json
    assert body["model"] == "hermes-3-llama-3-1-70b"
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"]) == (0.2, 0.9, 50, ["END"])
    assert (body["seed"], body["top_k"], body["repetition_penalty"]) == (7, 40, 1.1)
    assert (body["provider"], body["routing"]) == ("together", "price")
    llm.invoke("Hello", stop=["x"])
    assert replica.apipie.requests[-1].json["stop"] == ["x"]
    tools = llm.bind_tools([get_weather], tool_choice="auto")
    tools.invoke("Weather in Rome?", tool_mode="native")
    assert replica.apipie.requests[-1].json["tool_choice"] == "auto"
    tools.invoke("Weather in Rome?", tool_mode="hermes")  # per-call tool mode: the tools go in the prompt
    body = replica.apipie.requests[-1].json
    assert "tools" not in body
    assert "<tools>" in body["messages"][0]["content"]


@pytest.mark.parametrize("mode", MODES)
def test_batch_with_max_concurrency(make_llm: Any, mode: str) -> None:
    llm = make_llm()
    prompts = [f"Tell me about topic number {i}" for i in range(6)]
    config = {"max_concurrency": 3}
    results = (
        llm.batch(prompts, config=config)
        if mode == "sync"
        else asyncio.run(llm.abatch(prompts, config=config))
    )
    assert [f"topic number {i}" in r.content for i, r in enumerate(results)] == [True] * 6


# --- local servers, deprecations, streaming switches ----------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_local_openai_compatible_server(replica: Replica, mode: str) -> None:
    keyless = ChatHermes(model="hermes3:8b", gateway="openai", base_url=replica.base_url("openai"))
    llm = keyless.model_copy(update={"api_key": SecretStr("local")})
    try:
        # No key is required for a local server: the request goes out without Authorization (the replica,
        # like a server started with --api-key, then refuses it; no MissingAPIKeyError on our side).
        with pytest.raises(AuthenticationError) as refused:
            invoke(keyless, "Hello", mode)
        assert not isinstance(refused.value, MissingAPIKeyError)
        assert "authorization" not in replica.openai.requests[-1].headers
        reply = invoke(llm, "Hello", mode)
        assert reply.text.startswith("Hello!")
        assert replica.openai.requests[-1].json["model"] == "hermes3:8b"  # sent as the server names it
        assert merged(stream(llm, "Hello", mode)).text == reply.text
    finally:
        keyless.close()
        llm.close()


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ValueError, match="allow_insecure_http"):
        ChatHermes(gateway="openai", base_url="http://10.1.2.3:8000/v1").invoke("hi")


def test_deprecated_model_warns_and_keeps_its_metadata() -> None:
    with pytest.warns(UserWarning, match="2025-09-09"):
        llm = ChatHermes(model="NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", gateway="aimlapi")
    assert llm.profile is not None
    assert llm.profile["status"] == "deprecated"
    assert llm.profile["max_input_tokens"] == 32768


def test_profile_from_the_catalog() -> None:
    hermes4 = ChatHermes(model="hermes-4-70b", gateway="aimlapi").profile
    assert hermes4 is not None
    assert (hermes4["reasoning_output"], hermes4["image_inputs"], hermes4["tool_calling"]) == (
        True,
        False,
        True,
    )
    assert hermes4["max_input_tokens"] == 131072
    vision = ChatHermes(model="nous-hermes-2-vision-7b").profile
    assert vision is not None
    assert vision["image_inputs"] is True
    assert ChatHermes(model="some-future-hermes").profile is None


@pytest.mark.parametrize("mode", MODES)
def test_streaming_flag_streams_under_invoke(make_llm: Any, replica: Replica, mode: str) -> None:
    reply = invoke(make_llm(streaming=True), "Hello", mode)
    assert replica.apipie.requests[-1].json.get("stream") is True
    assert reply.usage_metadata is not None
    assert reply.response_metadata["finish_reason"] == "stop"
    chunks = stream(make_llm(disable_streaming=True), "Hello", mode)
    assert len(chunks) == 1
    assert "stream" not in replica.apipie.requests[-1].json
