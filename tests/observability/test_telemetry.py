"""OpenTelemetry GenAI spans and metrics through ChatHermes and Hermes, on both gateways' replicas.

Attribute and metric names are read from the installed `opentelemetry-semantic-conventions`, so a rename in
the conventions fails here. The SDK's in-memory exporter and metric reader see exactly what an OTLP
collector would be sent.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from llama_index.core.llms import ChatMessage
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import SecretStr

from hermes_gateway import AuthenticationError, GatewayClient, _telemetry, configure_telemetry
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.observability.conftest import Otel
from tests.replica import Fault, Replica

SECRET = "sk-hermes-otel-secret-0123456789"
GATEWAYS = [("apipie", "hermes-3-llama-3.1-70b"), ("aimlapi", "hermes-4-70b")]
FAST_RETRY = {"retry-after-ms": "1"}


def _chat_hermes(replica: Replica, gateway: str, model: str, **kw: Any) -> ChatHermes:
    return ChatHermes(
        model=model,
        gateway=gateway,  # type: ignore[arg-type]  # one of the table's names
        base_url=replica.base_url(gateway),
        api_key=SecretStr(SECRET),
        **kw,
    )


def _hermes(replica: Replica, gateway: str, model: str, **kw: Any) -> Hermes:
    return Hermes(model=model, gateway=gateway, base_url=replica.base_url(gateway), api_key=SECRET, **kw)


def _no_secret(span: Any) -> None:
    every_value = json.dumps(
        [dict(span.attributes), [dict(e.attributes or {}) for e in span.events]], default=str
    )
    assert SECRET not in every_value
    assert "Bearer" not in every_value


def _check_reply_span(
    span: Any, otel: Otel, replica: Replica, gateway: str, model: str, msg: AIMessage
) -> None:
    attrs = span.attributes
    assert span.name == f"chat {model}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs[genai.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[genai.GEN_AI_PROVIDER_NAME] == gateway
    assert attrs[genai.GEN_AI_REQUEST_MODEL] == model
    assert attrs[genai.GEN_AI_RESPONSE_MODEL] == msg.response_metadata["model"]  # the id the gateway named
    assert attrs[genai.GEN_AI_RESPONSE_ID] == msg.response_metadata["id"]
    assert tuple(attrs[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ("stop",)
    usage = msg.usage_metadata
    assert usage is not None
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] == usage["input_tokens"] > 0
    assert attrs[genai.GEN_AI_USAGE_OUTPUT_TOKENS] == usage["output_tokens"] > 0
    assert attrs[server_attributes.SERVER_ADDRESS] == "127.0.0.1"
    assert attrs[server_attributes.SERVER_PORT] == replica[gateway].port
    assert attrs["hermes_gateway.gateway"] == gateway
    cost = msg.response_metadata["cost_usd"]
    assert attrs["hermes_gateway.cost.usd"] == pytest.approx(cost)
    assert cost > 0
    assert attrs["hermes_gateway.cost.source"] == "gateway"
    if msg.response_metadata.get("provider"):
        assert attrs["hermes_gateway.upstream.provider"] == msg.response_metadata["provider"]
    assert genai.GEN_AI_INPUT_MESSAGES not in attrs  # content capture is opt-in
    assert genai.GEN_AI_OUTPUT_MESSAGES not in attrs
    _no_secret(span)
    # metrics: one duration, input and output token counts, the cost
    (duration,) = otel.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 1
    assert duration.sum > 0
    assert duration.attributes[genai.GEN_AI_REQUEST_MODEL] == model
    tokens = {
        p.attributes[genai.GEN_AI_TOKEN_TYPE]: p.sum
        for p in otel.points(gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE)
    }
    assert tokens == {"input": usage["input_tokens"], "output": usage["output_tokens"]}
    (spent,) = otel.points("hermes_gateway.client.cost")
    assert spent.value == pytest.approx(cost)


# --- ChatHermes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gateway", "model"), GATEWAYS)
def test_chat_hermes_invoke(otel: Otel, replica: Replica, gateway: str, model: str) -> None:
    llm = _chat_hermes(replica, gateway, model, temperature=0.3, max_tokens=200, top_p=0.9)
    msg = llm.invoke("Hello there")
    assert isinstance(msg, AIMessage)
    span = otel.only_span()
    _check_reply_span(span, otel, replica, gateway, model, msg)
    assert span.attributes[genai.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert span.attributes[genai.GEN_AI_REQUEST_MAX_TOKENS] == 200
    assert span.attributes[genai.GEN_AI_REQUEST_TOP_P] == 0.9
    assert span.attributes[genai.GEN_AI_REQUEST_STREAM] is False
    assert genai.GEN_AI_REQUEST_SEED not in span.attributes  # only what was set
    llm.close()


@pytest.mark.parametrize(("gateway", "model"), GATEWAYS)
def test_chat_hermes_stream(otel: Otel, replica: Replica, gateway: str, model: str) -> None:
    llm = _chat_hermes(replica, gateway, model)
    chunks = llm.stream("Tell me about the sea")
    first = next(chunks)
    assert otel.spans() == []  # the span is open while the stream is
    merged = first
    for chunk in chunks:
        merged += chunk
    span = otel.only_span()
    msg = AIMessage(
        content=merged.content,
        usage_metadata=merged.usage_metadata,
        response_metadata=merged.response_metadata,
    )
    _check_reply_span(span, otel, replica, gateway, model, msg)
    assert span.attributes[genai.GEN_AI_REQUEST_STREAM] is True
    llm.close()


def test_abandoned_stream_ends_its_span(otel: Otel, replica: Replica) -> None:
    replica.apipie.set_stream_shape(chunks=40)
    llm = _chat_hermes(replica, "apipie", "hermes-3-llama-3.1-70b")
    chunks = llm.stream("Tell me a long story")
    next(chunks)
    chunks.close()  # the caller walks away mid-reply
    span = otel.only_span()
    assert [e.name for e in span.events] == ["hermes_gateway.stream.abandoned"]
    assert span.status.status_code is StatusCode.UNSET
    assert genai.GEN_AI_USAGE_INPUT_TOKENS not in span.attributes  # no usage came: none is invented
    (duration,) = otel.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 1
    llm.close()


@pytest.mark.parametrize(("gateway", "model"), GATEWAYS)
def test_chat_hermes_error(otel: Otel, replica: Replica, gateway: str, model: str) -> None:
    replica[gateway].enqueue(Fault.error(401))
    llm = _chat_hermes(replica, gateway, model)
    with pytest.raises(AuthenticationError) as caught:
        llm.invoke("Hello")
    span = otel.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(caught.value)
    assert span.attributes[error_attributes.ERROR_TYPE] == "AuthenticationError"
    assert genai.GEN_AI_RESPONSE_ID not in span.attributes
    _no_secret(span)
    (duration,) = otel.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.attributes[error_attributes.ERROR_TYPE] == "AuthenticationError"
    assert otel.points(gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE) == []
    llm.close()


def test_retries_are_span_events(otel: Otel, replica: Replica) -> None:
    replica.apipie.enqueue(Fault.error(503, headers=FAST_RETRY), Fault.error(429, headers=FAST_RETRY))
    llm = _chat_hermes(replica, "apipie", "hermes-3-llama-3.1-70b", max_retries=2)
    llm.invoke("Hello")
    span = otel.only_span()
    retries = [e for e in span.events if e.name == "hermes_gateway.retry"]
    assert [e.attributes["http.response.status_code"] for e in retries] == [503, 429]
    assert [e.attributes["hermes_gateway.retry.attempt"] for e in retries] == [1, 2]
    assert retries[0].attributes[error_attributes.ERROR_TYPE] == "ServerError"
    assert span.status.status_code is StatusCode.UNSET
    llm.close()


def test_failover_hop_is_a_span_event_and_the_span_names_who_served(otel: Otel, replica: Replica) -> None:
    replica.apipie.enqueue(Fault.error(503))
    llm = ChatHermes(
        model="hermes-3-llama-3.1-70b",
        gateway=["apipie", "aimlapi"],
        base_url={"apipie": replica.base_url("apipie"), "aimlapi": replica.base_url("aimlapi")},
        api_key={"apipie": SecretStr(SECRET), "aimlapi": SecretStr(SECRET)},
        max_retries=0,
    )
    llm.invoke("Hello")
    span = otel.only_span()
    (hop,) = [e for e in span.events if e.name == "hermes_gateway.failover"]
    assert hop.attributes["hermes_gateway.failover.from"] == "apipie"
    assert hop.attributes["hermes_gateway.failover.to"] == "aimlapi"
    assert span.attributes["hermes_gateway.gateway"] == "aimlapi"
    assert span.attributes[genai.GEN_AI_PROVIDER_NAME] == "aimlapi"
    assert span.attributes[server_attributes.SERVER_PORT] == replica.aimlapi.port
    _no_secret(span)
    llm.close()


def test_content_capture_is_opt_in_per_the_conventions_setting(
    otel: Otel, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_telemetry.CAPTURE_ENV, "SPAN_ONLY")
    llm = _chat_hermes(replica, "apipie", "hermes-3-llama-3.1-70b")
    msg = llm.invoke("Hello from the capture test")
    attrs = otel.only_span().attributes
    sent = json.loads(attrs[genai.GEN_AI_INPUT_MESSAGES])
    assert sent[-1]["role"] == "user"
    assert sent[-1]["parts"][0] == {"type": "text", "content": "Hello from the capture test"}
    (answer,) = json.loads(attrs[genai.GEN_AI_OUTPUT_MESSAGES])
    assert answer["role"] == "assistant"
    assert answer["finish_reason"] == "stop"
    assert {"type": "text", "content": msg.content} in answer["parts"]
    llm.close()


# --- Hermes (LlamaIndex) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("gateway", "model"), GATEWAYS)
def test_hermes_sync_chat(otel: Otel, replica: Replica, gateway: str, model: str) -> None:
    llm = _hermes(replica, gateway, model)
    response = llm.chat([ChatMessage(role="user", content="Hello")])
    span = otel.only_span()
    raw = response.raw or {}
    assert span.name == f"chat {model}"
    assert span.attributes[genai.GEN_AI_PROVIDER_NAME] == gateway
    assert span.attributes[genai.GEN_AI_RESPONSE_ID] == raw.get("id")
    assert span.attributes[genai.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert span.attributes["hermes_gateway.cost.usd"] > 0
    _no_secret(span)


@pytest.mark.parametrize(("gateway", "model"), GATEWAYS)
def test_hermes_async_chat_and_stream(otel: Otel, replica: Replica, gateway: str, model: str) -> None:
    llm = _hermes(replica, gateway, model)

    async def run() -> str:
        await llm.achat([ChatMessage(role="user", content="Hello")])
        text = ""
        async for part in await llm.astream_chat([ChatMessage(role="user", content="Tell me more")]):
            text = part.message.content or ""
        return text

    text = asyncio.run(run())
    assert text
    spans = otel.spans()
    assert [s.attributes[genai.GEN_AI_REQUEST_STREAM] for s in spans] == [False, True]
    for span in spans:
        assert span.kind is SpanKind.CLIENT
        assert span.attributes[genai.GEN_AI_USAGE_INPUT_TOKENS] > 0
        assert tuple(span.attributes[genai.GEN_AI_RESPONSE_FINISH_REASONS]) == ("stop",)
    (duration,) = otel.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)
    assert duration.count == 2


# --- the off switch and the names ---------------------------------------------------------------------------


def test_nothing_is_wrapped_without_a_provider(replica: Replica) -> None:
    configure_telemetry()
    if _telemetry.instruments() is not None:
        pytest.skip("a process-wide OpenTelemetry provider is set in this run")
    client = GatewayClient("apipie", base_url=replica.base_url("apipie"), api_key=SECRET)
    with client.stream(
        {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}
    ) as s:
        assert s._deltas.__name__ == "_deltas"  # the driver's own generator: no observer in the chunk path
        assert "".join(d.content for d in s)
    client.close()


def test_names_match_the_installed_semantic_conventions() -> None:
    assert _telemetry.OPERATION == genai.GEN_AI_OPERATION_NAME
    assert _telemetry.PROVIDER == genai.GEN_AI_PROVIDER_NAME
    assert _telemetry.REQUEST_MODEL == genai.GEN_AI_REQUEST_MODEL
    assert _telemetry.RESPONSE_MODEL == genai.GEN_AI_RESPONSE_MODEL
    assert _telemetry.RESPONSE_ID == genai.GEN_AI_RESPONSE_ID
    assert _telemetry.FINISH_REASONS == genai.GEN_AI_RESPONSE_FINISH_REASONS
    assert _telemetry.INPUT_TOKENS == genai.GEN_AI_USAGE_INPUT_TOKENS
    assert _telemetry.OUTPUT_TOKENS == genai.GEN_AI_USAGE_OUTPUT_TOKENS
    assert _telemetry.CACHE_READ_TOKENS == genai.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS
    assert _telemetry.REASONING_TOKENS == genai.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS
    assert _telemetry.INPUT_MESSAGES == genai.GEN_AI_INPUT_MESSAGES
    assert _telemetry.OUTPUT_MESSAGES == genai.GEN_AI_OUTPUT_MESSAGES
    assert _telemetry.OUTPUT_TYPE == genai.GEN_AI_OUTPUT_TYPE
    assert _telemetry.TOKEN_TYPE == genai.GEN_AI_TOKEN_TYPE
    assert _telemetry.TOP_K == genai.GEN_AI_REQUEST_TOP_K
    assert _telemetry.CHOICE_COUNT == genai.GEN_AI_REQUEST_CHOICE_COUNT
    assert _telemetry.STREAM == genai.GEN_AI_REQUEST_STREAM
    assert set(_telemetry.REQUEST_PARAMS.values()) == {
        genai.GEN_AI_REQUEST_TEMPERATURE,
        genai.GEN_AI_REQUEST_TOP_P,
        genai.GEN_AI_REQUEST_MAX_TOKENS,
        genai.GEN_AI_REQUEST_STOP_SEQUENCES,
        genai.GEN_AI_REQUEST_SEED,
        genai.GEN_AI_REQUEST_PRESENCE_PENALTY,
        genai.GEN_AI_REQUEST_FREQUENCY_PENALTY,
    }
    assert _telemetry.SERVER_ADDRESS == server_attributes.SERVER_ADDRESS
    assert _telemetry.SERVER_PORT == server_attributes.SERVER_PORT
    assert _telemetry.ERROR_TYPE == error_attributes.ERROR_TYPE
    assert _telemetry.TOKEN_USAGE_METRIC == gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE
    assert _telemetry.DURATION_METRIC == gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION
    assert genai.GenAiOperationNameValues.CHAT.value == "chat"
    assert genai.GenAiProviderNameValues.OPENAI.value == _telemetry.provider_name("openai")
