"""Ids and extension fields as APIpie's own clients send them; native tools only where confirmed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from hermes_gateway import GatewayClient
from hermes_gateway._catalog import AIMLAPI, APIPIE, lookup, provider_prefix, resolve_model_id
from hermes_gateway._exceptions import GatewayError
from hermes_gateway._gateways import get_dialect
from hermes_gateway._request import prepare_request
from hermes_gateway._retry import RetryPolicy
from hermes_gateway._types import ChatRequest
from langchain_hermes import ChatHermes
from tests.replica import PASS, Fault, Replica

TOOLS = [{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}]
USER = [{"role": "user", "content": "What time is it?"}]


def prepare(gateway: str, **request: Any) -> dict[str, Any]:
    body: ChatRequest = {"messages": USER, **request}  # type: ignore[typeddict-item]
    return prepare_request(body, dialect=get_dialect(gateway), info=lookup(body["model"])).body


# --- provider-prefixed ids (gateways.md Corrections: APIpie's Cline fork and AnythingLLM send them) ---------


@pytest.mark.parametrize(
    ("given", "provider", "name"),
    [
        ("openrouter/hermes-3-llama-3-1-70b", "openrouter", "hermes-3-llama-3.1-70b"),
        ("together/Nous-Hermes-2-Mixtral-8x7B-DPO", "together", "nous-hermes-2-mixtral-8x7b-dpo"),
        ("deepinfra/nousresearch/hermes-4-405b", "deepinfra", "hermes-4-405b"),
    ],
)
def test_provider_prefixed_ids_resolve_and_are_sent_as_given(given: str, provider: str, name: str) -> None:
    info = lookup(given)
    assert info is not None
    assert info.name == name
    assert provider_prefix(given) == provider
    assert resolve_model_id(given, APIPIE) == given


def test_names_with_a_slash_that_are_not_provider_choices() -> None:
    # The Hugging Face path and AI/ML API's own id are names, not a provider prefix.
    assert provider_prefix("NousResearch/Hermes-3-Llama-3.1-70B") is None
    assert resolve_model_id("NousResearch/Hermes-3-Llama-3.1-70B", APIPIE) == "hermes-3-llama-3-1-70b"
    assert provider_prefix("nousresearch/hermes-4-70b") is None
    assert lookup("meta-llama/llama-3.1-8b-instruct") is None
    assert provider_prefix("meta-llama/llama-3.1-8b-instruct") is None


def test_a_prefixed_id_gets_the_hermes_prompt_not_the_tools_model() -> None:
    # Before: lookup() was None, auto mode sent native `tools`, and APIpie handed them to gpt-4o-mini.
    body = prepare(APIPIE, model="openrouter/hermes-3-llama-3-1-70b", tools=TOOLS)
    assert body["model"] == "openrouter/hermes-3-llama-3-1-70b"
    assert "tools" not in body
    assert "<tools>" in body["messages"][0]["content"]


# --- native tools only where confirmed ----------------------------------------------------------------------


@pytest.mark.parametrize("model", ["hermes-3-llama-3.1-70b", "hermes-4-405b"])
def test_auto_mode_uses_the_prompt_where_native_tools_are_unconfirmed(model: str) -> None:
    body = prepare(AIMLAPI, model=model, tools=TOOLS, parallel_tool_calls=False)
    assert "tools" not in body
    assert "<tools>" in body["messages"][0]["content"]
    native = prepare_request(
        {"model": model, "messages": USER, "tools": TOOLS, "parallel_tool_calls": False},
        dialect=get_dialect(AIMLAPI),
        info=lookup(model),
        tool_mode="native",
    ).body
    assert native["tools"] == TOOLS
    assert native["parallel_tool_calls"] is False  # the spec declares tools: not dropped


def test_every_gateway_tool_fact_says_where_it_comes_from() -> None:
    for name in ("hermes-3-llama-3.1-70b", "hermes-4-70b"):
        info = lookup(name)
        assert info is not None
        for gateway in info.gateways:
            assert info.tool_evidence[gateway]
        assert not info.supports_native_tools(AIMLAPI)


# --- APIpie routing and memory ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent"), [("perf_avg", "perf_avg"), ("perf-avg", "perf_avg"), ("price", "price")]
)
def test_routing_spellings_are_accepted_and_the_documented_one_is_sent(given: str, sent: str) -> None:
    body = prepare(APIPIE, model="hermes-4-70b", extra_body={"routing": given})
    assert body["routing"] == sent


def test_unknown_routing_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="'price', 'perf' or 'perf_avg'"):
        prepare(APIPIE, model="hermes-4-70b", extra_body={"routing": "fastest"})


def test_routing_is_not_rewritten_for_other_gateways() -> None:
    body = prepare(AIMLAPI, model="hermes-4-70b", extra_body={"routing": "perf-avg"})
    assert body["routing"] == "perf-avg"


@pytest.mark.parametrize(("field", "value"), [("mem_expire", 0), ("mem_expire", 1441), ("mem_length", 101)])
def test_memory_values_out_of_the_documented_range_are_refused(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        prepare(APIPIE, model="hermes-4-70b", extra_body={"memory": 1, field: value})


def test_memory_options_within_range_are_sent() -> None:
    memory = {"memory": 1, "mem_session": "user-42", "mem_expire": 60, "mem_msgs": 8, "mem_length": 20}
    body = prepare(APIPIE, model="hermes-4-70b", extra_body=memory)
    assert {k: body[k] for k in memory} == memory


# --- the per-call correlation id ----------------------------------------------------------------------------


def test_one_correlation_id_per_call_kept_across_retries_and_reported(replica: Replica) -> None:
    replica.aimlapi.enqueue(Fault.error(503), PASS)
    client = GatewayClient("aimlapi", api_key="k", base_url=replica.aimlapi.base_url, max_retries=1)
    client.retry_policy = RetryPolicy(max_retries=1, initial_delay=0.0)
    result = client.chat({"model": "hermes-4-70b", "messages": USER})
    sent = [r.headers["x-client-request-id"] for r in replica.aimlapi.requests]
    assert len(sent) == 2
    assert sent[0] == sent[1]  # the retry is the same call
    assert result.client_request_id == sent[0]
    assert result.request_id is not None  # AI/ML API's x-inference-id
    assert result.request_id.startswith("inf-")
    again = client.chat({"model": "hermes-4-70b", "messages": USER})
    assert again.client_request_id != result.client_request_id  # a new call, a new id


def test_the_correlation_id_is_on_errors_and_in_langchain_metadata(replica: Replica) -> None:
    replica.apipie.enqueue(Fault.error(400, "bad things"))
    client = GatewayClient("apipie", api_key="k", base_url=replica.apipie.base_url, max_retries=0)
    with pytest.raises(GatewayError) as caught:
        client.chat({"model": "hermes-4-70b", "messages": USER})
    assert caught.value.client_request_id == replica.apipie.requests[-1].headers["x-client-request-id"]
    llm = ChatHermes(
        model="hermes-4-70b", gateway="aimlapi", base_url=replica.aimlapi.base_url, api_key=SecretStr("k")
    )
    metadata = llm.invoke("hi").response_metadata
    assert metadata["client_request_id"] == replica.aimlapi.requests[-1].headers["x-client-request-id"]
    assert metadata["request_id"].startswith("inf-")
    streamed = [c.response_metadata for c in llm.stream("hi") if c.response_metadata.get("client_request_id")]
    assert len(streamed) == 1  # once, on the last chunk


# --- Hermes 4 reasoning: one switch ---------------------------------------------------------------


def test_thinking_adds_the_model_cards_system_prompt_on_every_gateway() -> None:
    from hermes_gateway._features import THINKING_PROMPT

    messages = [{"role": "system", "content": "Be brief."}, *USER]
    for gateway in (APIPIE, AIMLAPI):
        body = prepare(gateway, model="hermes-4-70b", extra_body={"thinking": True})
        assert "thinking" not in body  # ours, never sent
        assert body["messages"][0] == {"role": "system", "content": THINKING_PROMPT}
        body = prepare(gateway, model="hermes-4-70b", messages=messages, extra_body={"thinking": True})
        assert body["messages"][0]["content"] == f"{THINKING_PROMPT}\n\nBe brief."
    assert messages[0]["content"] == "Be brief."  # the caller's messages are not mutated
    off = prepare(AIMLAPI, model="hermes-4-70b", extra_body={"thinking": False})
    assert off["messages"] == USER
    assert "thinking" not in off


def test_reasoning_effort_is_sent_only_where_documented() -> None:
    assert prepare(AIMLAPI, model="hermes-4-70b", extra_body={"reasoning_effort": "high"})[
        "reasoning_effort"
    ] == ("high")
    assert "reasoning_effort" not in prepare(
        APIPIE, model="hermes-4-70b", extra_body={"reasoning_effort": "low"}
    )
    with pytest.raises(ValueError, match="'low', 'medium' or 'high'"):
        prepare(AIMLAPI, model="hermes-4-70b", extra_body={"reasoning_effort": "max"})


def test_one_switch_on_both_adapters(replica: Replica) -> None:
    from llamaindex_hermes import Hermes

    llm = ChatHermes(
        model="hermes-4-70b",
        gateway="aimlapi",
        base_url=replica.aimlapi.base_url,
        api_key=SecretStr("k"),
        thinking=True,
        reasoning_effort="medium",
    )
    message = llm.invoke("Why is the sky blue?")
    sent = replica.aimlapi.requests[-1].json
    assert sent["reasoning_effort"] == "medium"
    assert "<think>" in sent["messages"][0]["content"]
    assert message.additional_kwargs.get("reasoning_content")  # the replica's Hermes 4 reasons: reported
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_token_details"]["reasoning"] > 0  # reasoning tokens in usage
    li = Hermes(
        model="hermes-4-70b",
        gateway="apipie",
        base_url=replica.apipie.base_url,
        api_key="k",
        thinking=True,
        reasoning_effort="high",
    )
    li.complete("Why is the sky blue?")
    sent = replica.apipie.requests[-1].json
    assert "reasoning_effort" not in sent  # APIpie documents no reasoning control
    assert "<think>" in sent["messages"][0]["content"]


# --- APIpie memory, typed -------------------------------------------------------------------------


def test_typed_memory_becomes_apipies_fields_and_is_checked_up_front() -> None:
    from hermes_gateway import APIpieMemory

    memory = APIpieMemory(session="user-42", expire_minutes=60, max_messages=8, length_percent=20)
    body = prepare(APIPIE, model="hermes-4-70b", extra_body={"memory": memory})
    assert {k: v for k, v in body.items() if k.startswith("mem")} == {
        "memory": 1,
        "mem_session": "user-42",
        "mem_expire": 60,
        "mem_msgs": 8,
        "mem_length": 20,
    }
    assert (
        prepare(APIPIE, model="hermes-4-70b", extra_body={"memory": APIpieMemory(clear=True)})["mem_clear"]
        == 1
    )
    assert "memory" not in prepare(AIMLAPI, model="hermes-4-70b", extra_body={"memory": memory})
    with pytest.raises(ValueError, match="mem_expire"):
        APIpieMemory(expire_minutes=2000)
    with pytest.raises(ValueError, match="mem_msgs"):
        APIpieMemory(max_messages=0)


def test_memory_option_on_both_adapters(replica: Replica) -> None:
    from hermes_gateway import APIpieMemory
    from llamaindex_hermes import Hermes

    memory = APIpieMemory(session="user-42")
    llm = ChatHermes(
        model="hermes-4-70b",
        gateway="apipie",
        base_url=replica.apipie.base_url,
        api_key=SecretStr("k"),
        memory=memory,
    )
    llm.invoke("Hi")
    assert replica.apipie.requests[-1].json["mem_session"] == "user-42"
    li = Hermes(
        model="hermes-4-70b", gateway="apipie", base_url=replica.apipie.base_url, api_key="k", memory=memory
    )
    li.complete("Hi")
    assert replica.apipie.requests[-1].json["memory"] == 1
