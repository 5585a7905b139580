"""EmbeddingsClient against the loopback replica, through the sync and the async path (`driver`).

The replica computes its vectors with `tests.replica.vector` (a hashed bag of words), so a test can say which
vector belongs to which text: order across batches is checked vector by vector, not by count. Faults are
scripted on the embeddings path; retry backoff is shortened to 10 ms.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hermes_gateway import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    EmbeddingResult,
    EmbeddingsClient,
    GatewayError,
    InvalidEmbeddingInputError,
    InvalidResponseError,
    MissingAPIKeyError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Usage,
)
from tests.replica import EMBEDDINGS_PATH, MAX_BATCH, PASS, Fault, Replica, vector

KEY = "sk-replica-embeddings-key-123456"
MODEL = {
    "apipie": "text-embedding-3-small",
    "aimlapi": "text-embedding-3-small",
    "openai": "nomic-embed-text",
}
TEXTS = [f"document number {i} about topic {i % 7}" for i in range(11)]

_OPEN: list[EmbeddingsClient] = []


def embedder(replica: Replica, gateway: str | list[str] = "apipie", **kw: Any) -> EmbeddingsClient:
    names = [gateway] if isinstance(gateway, str) else gateway
    kw.setdefault("api_key", {g: KEY for g in names})
    kw.setdefault("base_url", {g: replica[g].base_url for g in names})
    kw.setdefault("model", MODEL[names[0]])
    client = EmbeddingsClient(names, **kw)
    for route in client.routes:
        route.retry_policy = RetryPolicy(max_retries=route.max_retries, initial_delay=0.01, max_delay=0.05)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def embed(client: EmbeddingsClient, texts: Any, driver: str) -> EmbeddingResult:
    if driver == "sync":
        return client.embed(texts)
    return asyncio.run(client.aembed(texts))


def embedding_requests(replica: Replica, gateway: str) -> list[Any]:
    return [r for r in replica[gateway].requests if r.path == EMBEDDINGS_PATH]


# --- batching and order ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gateway", ["apipie", "aimlapi", "openai"])
def test_vectors_come_back_in_input_order_across_batches(replica: Replica, driver: str, gateway: str) -> None:
    client = embedder(replica, gateway, chunk_size=3, dimensions=32)
    result = embed(client, TEXTS, driver)
    assert result.vectors == [pytest.approx(vector(text, 32)) for text in TEXTS]
    assert all(type(x) is float for v in result.vectors for x in v)
    sent = embedding_requests(replica, gateway)
    assert [len(r.json["input"]) for r in sorted(sent, key=lambda r: TEXTS.index(r.json["input"][0]))] == [
        3,
        3,
        3,
        2,
    ]
    assert result.batches == 4
    assert result.gateway == gateway


def test_default_chunk_size_stays_inside_the_gateways_limit(replica: Replica, driver: str) -> None:
    texts = [f"t{i}" for i in range(MAX_BATCH["aimlapi"] * 2 + 5)]
    result = embed(embedder(replica, "aimlapi", dimensions=4), texts, driver)
    assert len(result.vectors) == len(texts)
    sizes = sorted(len(r.json["input"]) for r in embedding_requests(replica, "aimlapi"))
    assert sizes == [5, MAX_BATCH["aimlapi"], MAX_BATCH["aimlapi"]]


def test_a_chunk_size_over_the_limit_is_the_gateways_typed_400(replica: Replica, driver: str) -> None:
    texts = [f"t{i}" for i in range(MAX_BATCH["apipie"] + 1)]
    with pytest.raises(BadRequestError) as caught:
        embed(embedder(replica, "apipie", chunk_size=len(texts)), texts, driver)
    assert caught.value.status_code == 400
    assert "at most" in caught.value.message


async def test_async_batches_run_with_bounded_concurrency() -> None:
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        inputs = __import__("json").loads(request.content)["input"]
        data = [{"index": i, "embedding": [float(len(t))]} for i, t in enumerate(inputs)]
        return httpx.Response(200, json={"data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    client = EmbeddingsClient(
        "openai",
        model="m",
        base_url="http://127.0.0.1:9/v1",
        chunk_size=1,
        max_concurrency=3,
        async_transport=httpx.MockTransport(handler),
    )
    texts = ["x" * n for n in range(1, 13)]
    result = await client.aembed(texts)
    await client.aclose()
    assert result.vectors == [[float(n)] for n in range(1, 13)]
    assert peak == 3
    assert result.usage is not None
    assert result.usage.total_tokens == 12


# --- usage -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "model", "has_cost"),
    [
        ("apipie", "text-embedding-3-small", True),  # usage.cost as a string
        ("aimlapi", "text-embedding-3-small", True),  # meta.usage.usd_spent
        ("aimlapi", "BAAI/bge-base-en-v1.5", True),  # only the x-aimlapi-usd-spent header
        ("openai", "nomic-embed-text", False),  # a local server reports no cost: None, never 0
    ],
)
def test_usage_is_reported_once_per_call(
    replica: Replica, driver: str, gateway: str, model: str, has_cost: bool
) -> None:
    seen: list[Usage] = []
    client = embedder(replica, gateway, model=model, chunk_size=4, usage_hook=seen.append)
    result = embed(client, TEXTS, driver)
    assert len(seen) == 1
    assert seen[0] is result.usage
    usage = seen[0]
    assert usage.gateway == gateway
    assert usage.completion_tokens == 0
    assert usage.prompt_tokens == usage.total_tokens > len(TEXTS)
    assert (usage.cost_usd is not None and usage.cost_usd > 0) is has_cost
    assert len(usage.raw["batches"]) == 3


def test_a_broken_usage_hook_does_not_lose_the_vectors(replica: Replica, driver: str) -> None:
    def hook(_usage: Usage) -> None:
        raise RuntimeError("hook bug")

    result = embed(embedder(replica, "apipie", usage_hook=hook, dimensions=8), ["a"], driver)
    assert result.vectors == [pytest.approx(vector("a", 8))]


# --- input checks: before anything is sent -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "says"),
    [
        ([], "at least one text"),
        ("one text", "list of strings"),
        (["ok", 3], "input 1 is a int"),
        (["ok", b"bytes"], "input 1 is a bytes"),
        (["ok", ""], "input 1 is an empty string"),
    ],
)
@pytest.mark.parametrize("gateway", ["apipie", "aimlapi"])
def test_bad_input_is_refused_before_sending(
    replica: Replica, driver: str, gateway: str, texts: Any, says: str
) -> None:
    with pytest.raises(InvalidEmbeddingInputError, match=says) as caught:
        embed(embedder(replica, gateway), texts, driver)
    assert isinstance(caught.value, ValueError)
    assert replica[gateway].requests == []


def test_an_empty_string_is_sent_to_a_local_server_which_decides(replica: Replica, driver: str) -> None:
    with pytest.raises(BadRequestError, match="empty string"):
        embed(embedder(replica, "openai"), ["ok", ""], driver)
    assert len(embedding_requests(replica, "openai")) == 1


@pytest.mark.parametrize("bad", [{"dimensions": 0}, {"encoding_format": "np"}, {"chunk_size": 0}])
def test_bad_options_are_value_errors_at_construction(replica: Replica, bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        embedder(replica, "apipie", **bad)


def test_openai_gateway_needs_a_model() -> None:
    with pytest.raises(ValueError, match="pass model="):
        EmbeddingsClient("openai", base_url="http://127.0.0.1:8000/v1")


# --- dimensions and base64 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gateway", ["apipie", "aimlapi"])
def test_base64_replies_are_decoded_to_lists_of_floats(replica: Replica, driver: str, gateway: str) -> None:
    client = embedder(replica, gateway, encoding_format="base64", dimensions=64)
    result = embed(client, TEXTS[:3], driver)
    assert all(isinstance(v, list) and len(v) == 64 and type(v[0]) is float for v in result.vectors)
    for text, got in zip(TEXTS[:3], result.vectors, strict=True):
        assert got == pytest.approx(vector(text, 64), abs=1e-6)
    assert embedding_requests(replica, gateway)[0].json["encoding_format"] == "base64"


def test_dimensions_is_sent_and_the_float_default_is_not(replica: Replica, driver: str) -> None:
    embed(embedder(replica, "aimlapi", dimensions=256), ["a"], driver)
    embed(embedder(replica, "aimlapi"), ["a"], driver)
    first, second = (r.json for r in embedding_requests(replica, "aimlapi"))
    assert first == {"model": "text-embedding-3-small", "input": ["a"], "dimensions": 256}
    assert second == {"model": "text-embedding-3-small", "input": ["a"]}


def test_dimensions_on_a_model_without_them_is_a_typed_error(replica: Replica, driver: str) -> None:
    client = embedder(replica, "apipie", model="text-embedding-ada-002", dimensions=256)
    with pytest.raises(BadRequestError, match="does not support specifying dimensions"):
        embed(client, ["a"], driver)


# --- retries, failover, errors -----------------------------------------------------------------------------


def test_a_rate_limited_batch_is_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.rate_limited(retry_after=0, path=EMBEDDINGS_PATH), PASS)
    result = embed(embedder(replica, "apipie", dimensions=8), ["a", "b"], driver)
    assert len(result.vectors) == 2
    assert len(embedding_requests(replica, "apipie")) == 2


def test_retries_spent_is_the_typed_error(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(*[Fault.error(503, "upstream down", path=EMBEDDINGS_PATH)] * 3)
    with pytest.raises(ServerError, match="upstream down") as caught:
        embed(embedder(replica, "apipie", max_retries=1), ["a"], driver)
    assert caught.value.status_code == 503
    assert len(embedding_requests(replica, "apipie")) == 2


def test_failover_serves_every_batch_from_one_gateway(
    replica: Replica, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    replica.apipie.enqueue(Fault.error(503, "apipie down", path=EMBEDDINGS_PATH))
    client = embedder(replica, ["apipie", "aimlapi"], max_retries=0, chunk_size=4, dimensions=16)
    with caplog.at_level(logging.WARNING, logger="hermes_gateway"):
        result = embed(client, TEXTS, driver)
    assert result.gateway == "aimlapi"
    assert result.usage is not None
    assert result.usage.gateway == "aimlapi"
    assert result.vectors == [pytest.approx(vector(t, 16)) for t in TEXTS]
    assert len(embedding_requests(replica, "apipie")) == 1
    assert len(embedding_requests(replica, "aimlapi")) == 3
    assert "failing over from apipie to aimlapi" in caplog.text
    assert KEY not in caplog.text


def test_no_failover_after_a_request_error(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(400, "bad input", path=EMBEDDINGS_PATH))
    with pytest.raises(BadRequestError, match="bad input") as caught:
        embed(embedder(replica, ["apipie", "aimlapi"]), ["a"], driver)
    assert embedding_requests(replica, "aimlapi") == []
    assert [e.gateway for e in caught.value.attempts] == ["apipie"]


def test_every_gateway_failing_raises_the_last_with_attempts(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.rate_limited(retry_after=0, path=EMBEDDINGS_PATH))
    replica.aimlapi.enqueue(Fault.error(502, path=EMBEDDINGS_PATH))
    with pytest.raises(GatewayError) as caught:
        embed(embedder(replica, ["apipie", "aimlapi"], max_retries=0), ["a"], driver)
    assert caught.value.gateway == "aimlapi"
    assert [type(e) for e in caught.value.attempts] == [RateLimitError, ServerError]


def test_a_later_batch_failing_raises_not_a_partial_answer(replica: Replica, driver: str) -> None:
    replica.apipie.script([Fault(path=EMBEDDINGS_PATH), Fault.error(500, "boom", path=EMBEDDINGS_PATH)])
    with pytest.raises(ServerError, match="boom"):
        embed(embedder(replica, "apipie", max_retries=0, chunk_size=2, max_concurrency=1), TEXTS[:4], driver)


def test_an_echoed_key_is_redacted_from_the_error(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(401, f"Incorrect API key provided: {KEY}", path=EMBEDDINGS_PATH))
    client = embedder(replica, "apipie")
    with pytest.raises(AuthenticationError) as caught:
        embed(client, ["a"], driver)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.body)
    assert KEY not in repr(client)


def test_missing_key_names_the_variable_and_sends_nothing(replica: Replica, driver: str) -> None:
    client = embedder(replica, "aimlapi", api_key=None)
    with pytest.raises(MissingAPIKeyError, match="AIMLAPI_API_KEY"):
        embed(client, ["a"], driver)
    assert replica.aimlapi.requests == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"error": {"message": "upstream exploded", "code": 502}}, "upstream exploded"),
        ({"data": [{"index": 0, "embedding": [0.1]}]}, "1 vectors for 2 inputs"),
        ({"data": [{"index": 0, "embedding": [0.1]}, {"index": 0, "embedding": [0.2]}]}, "repeated"),
        ({"data": [{"index": 0, "embedding": "%%%"}, {"index": 1, "embedding": [1]}]}, "not numbers"),
        ({"data": [{"index": 0, "embedding": [0.1, None]}, {"index": 1, "embedding": [1]}]}, "not numbers"),
        ({"data": [{"index": 0, "embedding": [0.1, "x"]}, {"index": 1, "embedding": [1]}]}, "not numbers"),
        ("not json at all", "not JSON"),
    ],
)
def test_unusable_replies_are_typed_errors(replica: Replica, driver: str, reply: Any, error: str) -> None:
    replica.apipie.enqueue(Fault.script_chunks([reply], path=EMBEDDINGS_PATH))
    with pytest.raises(GatewayError, match=error) as caught:
        embed(embedder(replica, "apipie", max_retries=0), ["a", "b"], driver)
    assert caught.value.gateway == "apipie"
    if error != "upstream exploded":
        assert isinstance(caught.value, InvalidResponseError)


def test_integers_in_a_vector_come_back_as_floats(replica: Replica, driver: str) -> None:
    reply = {
        "data": [{"index": 1, "embedding": [1, 0.5]}, {"index": 0, "embedding": [0, -2]}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
    replica.apipie.enqueue(Fault.script_chunks([reply], path=EMBEDDINGS_PATH))
    result = embed(embedder(replica, "apipie"), ["a", "b"], driver)
    assert result.vectors == [[0.0, -2.0], [1.0, 0.5]]
    assert all(type(x) is float for v in result.vectors for x in v)
    assert result.usage is not None
    assert result.usage.prompt_tokens == 4
    assert type(result.usage.prompt_tokens) is int


def test_one_client_embeds_across_event_loops(replica: Replica) -> None:
    client = embedder(replica, "aimlapi", dimensions=8)
    first = asyncio.run(client.aembed(["a"]))
    second = asyncio.run(client.aembed(["a"]))
    assert first.vectors == second.vectors


def test_a_slow_reply_times_out_and_is_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault(delay_before_headers=1.0, path=EMBEDDINGS_PATH))
    result = embed(embedder(replica, "apipie", timeout=0.3, dimensions=8), ["a"], driver)
    assert result.vectors == [pytest.approx(vector("a", 8))]
    assert len(embedding_requests(replica, "apipie")) == 2


def test_timeouts_spent_are_a_typed_timeout(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(*[Fault(delay_before_headers=1.0, path=EMBEDDINGS_PATH)] * 2)
    with pytest.raises(APITimeoutError):
        embed(embedder(replica, "apipie", timeout=0.3, max_retries=1), ["a"], driver)


def test_a_gateway_without_a_key_is_skipped(replica: Replica, driver: str) -> None:
    client = embedder(replica, ["apipie", "aimlapi"], api_key={"aimlapi": KEY}, dimensions=8)
    result = embed(client, ["a"], driver)
    assert result.gateway == "aimlapi"
    assert replica.apipie.requests == []


def test_the_client_pickles_and_keeps_its_key_out_of_repr(replica: Replica) -> None:
    client = embedder(replica, "aimlapi", dimensions=8)
    clone = pickle.loads(pickle.dumps(client))
    _OPEN.append(clone)
    assert clone.embed(["a"]).vectors == client.embed(["a"]).vectors
    assert KEY not in repr(clone)
