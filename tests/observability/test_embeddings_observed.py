"""Embeddings get the same observer as chat: one `embeddings {model}` CLIENT span per call (not per batch),
the gateway's cost on it, retry and failover events, and the spending cap refusing before anything is sent.

Driven through `GatewayEmbeddings` (LangChain) and `GatewayEmbedding` (LlamaIndex), sync and async, against
the replica's `/v1/embeddings` in both dialects.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as genai
from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
from opentelemetry.semconv.attributes import server_attributes
from opentelemetry.trace import SpanKind, StatusCode

from hermes_gateway import AuthenticationError, BudgetExceededError, spending_cap
from langchain_hermes import GatewayEmbeddings
from llamaindex_hermes import GatewayEmbedding
from tests.observability.conftest import Otel
from tests.replica import EMBEDDINGS_PATH, Fault, Replica

SECRET = "sk-hermes-embed-otel-0123456789"
TEXTS = ["the first text", "the second text", "the third text", "the fourth text", "the fifth text"]


def _embeddings_requests(replica: Replica, gateway: str) -> int:
    return sum(1 for r in replica[gateway].requests if r.path == EMBEDDINGS_PATH)


def _langchain(replica: Replica, gateway: str, **kw: Any) -> GatewayEmbeddings:
    return GatewayEmbeddings(
        gateway=gateway, base_url=replica.base_url(gateway), api_key=SECRET, dimensions=64, **kw
    )


@pytest.mark.parametrize("gateway", ["apipie", "aimlapi"])
@pytest.mark.parametrize("run", ["sync", "async"])
def test_one_span_per_call_with_usage_and_cost(otel: Otel, replica: Replica, gateway: str, run: str) -> None:
    embeddings = _langchain(replica, gateway, chunk_size=2)  # 5 texts: three batches, one call
    if run == "sync":
        vectors = embeddings.embed_documents(TEXTS)
    else:
        vectors = asyncio.run(embeddings.aembed_documents(TEXTS))
    assert len(vectors) == len(TEXTS)
    assert _embeddings_requests(replica, gateway) == 3
    span = otel.only_span()
    attrs = span.attributes
    assert attrs is not None
    model = embeddings.model
    assert span.name == f"embeddings {model}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attrs[genai.GEN_AI_OPERATION_NAME] == "embeddings"
    assert attrs[genai.GEN_AI_PROVIDER_NAME] == gateway
    assert attrs[genai.GEN_AI_REQUEST_MODEL] == model
    assert attrs[genai.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] == 64
    assert attrs[genai.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert attrs[server_attributes.SERVER_PORT] == replica[gateway].port
    assert attrs["hermes_gateway.gateway"] == gateway
    assert attrs["hermes_gateway.cost.usd"] >= 0
    assert SECRET not in json.dumps(dict(attrs), default=str)
    kinds = {
        p.attributes[genai.GEN_AI_TOKEN_TYPE] for p in otel.points(gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE)
    }
    assert kinds == {"input"}  # an embedding has no output tokens
    assert otel.points(gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION)


def test_retries_and_failover_are_span_events(otel: Otel, replica: Replica) -> None:
    down = Fault.error(503, retry_after_ms=1, path=EMBEDDINGS_PATH)
    replica.apipie.enqueue(down, down)
    embeddings = GatewayEmbeddings(
        gateway=["apipie", "aimlapi"],
        base_url={"apipie": replica.apipie.base_url, "aimlapi": replica.aimlapi.base_url},
        api_key={"apipie": SECRET, "aimlapi": SECRET},
        max_retries=1,
    )
    assert len(embeddings.embed_documents(TEXTS[:2])) == 2
    span = otel.only_span()
    names = [event.name for event in span.events]
    assert names == ["hermes_gateway.retry", "hermes_gateway.failover"]
    assert span.attributes is not None
    assert span.attributes["hermes_gateway.gateway"] == "aimlapi"  # the gateway that served


def test_an_error_sets_the_span_status(otel: Otel, replica: Replica) -> None:
    replica.aimlapi.enqueue(Fault.error(401, path=EMBEDDINGS_PATH))
    embeddings = _langchain(replica, "aimlapi", max_retries=0)
    with pytest.raises(AuthenticationError):
        embeddings.embed_query("hello")
    span = otel.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"]


def test_llamaindex_embedding_sync_and_async_are_spans(otel: Otel, replica: Replica) -> None:
    model = GatewayEmbedding(gateway="apipie", base_url=replica.apipie.base_url, api_key=SECRET)
    assert model.get_text_embedding("hello")
    assert asyncio.run(model.aget_text_embedding("hello again"))
    spans = otel.spans()
    assert [s.name for s in spans] == [f"embeddings {model.model_name}"] * 2


def test_a_spent_cap_refuses_embeddings_before_sending(replica: Replica) -> None:
    embeddings = _langchain(replica, "apipie")
    with spending_cap(1e-12) as budget:
        embeddings.embed_query("this one is admitted")  # the cap is checked before a call, not during it
        sent = _embeddings_requests(replica, "apipie")
        with pytest.raises(BudgetExceededError):
            embeddings.embed_query("this one is refused")
        with pytest.raises(BudgetExceededError):
            asyncio.run(embeddings.aembed_query("so is this one"))
    assert _embeddings_requests(replica, "apipie") == sent  # nothing more was sent
    assert budget.requests == 1
    assert budget.spent_usd > 0
