"""GatewayEmbeddings against the replica: construction checks, key handling, failover and a vector store."""

from __future__ import annotations

import asyncio
import copy
import pickle

import pytest
from langchain_core.documents import Document
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import SecretStr, ValidationError

from hermes_gateway import InvalidEmbeddingInputError, Usage
from langchain_hermes import GatewayEmbeddings
from tests.replica import EMBEDDINGS_PATH, Fault, Replica, vector

KEY = "sk-langchain-embeddings-key-9876"


def test_the_key_is_a_secret_everywhere() -> None:
    embeddings = GatewayEmbeddings(gateway="apipie", api_key=KEY)
    assert isinstance(embeddings.api_key, SecretStr)
    assert KEY not in repr(embeddings)
    assert KEY not in str(embeddings.model_dump())
    assert KEY not in embeddings.model_dump_json()
    clone = pickle.loads(pickle.dumps(embeddings))
    assert clone.api_key == embeddings.api_key


def test_defaults_per_gateway_and_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_API_KEY", KEY)
    embeddings = GatewayEmbeddings(gateway="aimlapi")
    assert embeddings.model == "text-embedding-3-small"
    assert isinstance(embeddings.api_key, SecretStr)
    assert embeddings.api_key.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"gateway": "openai", "base_url": "http://127.0.0.1:8000/v1"}, "pass model="),
        ({"gateway": "openai", "model": "nomic-embed-text"}, "base_url"),
        ({"gateway": "apipie", "base_url": "http://example.com/v1"}, "refusing plain http"),
        ({"gateway": ["apipie", "aimlapi"], "api_key": "one-key-for-both"}, "mapping per gateway"),
        ({"gateway": "apipie", "dimensions": 0}, "greater than or equal to 1"),
        ({"gateway": "apipie", "temperature": 0}, "Extra inputs"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        GatewayEmbeddings(**kwargs)  # type: ignore[arg-type]  # deliberately wrong arguments


def test_sync_and_async_agree_and_report_usage(replica: Replica) -> None:
    seen: list[Usage] = []
    embeddings = GatewayEmbeddings(
        gateway="apipie",
        api_key=KEY,
        base_url=replica.apipie.base_url,
        dimensions=32,
        chunk_size=2,
        usage_hook=seen.append,
    )
    texts = ["alpha beta", "gamma", "delta epsilon", "zeta"]
    sync = embeddings.embed_documents(texts)
    async_ = asyncio.run(embeddings.aembed_documents(texts))
    assert sync == async_ == [pytest.approx(vector(t, 32)) for t in texts]
    assert embeddings.embed_query("gamma") == pytest.approx(vector("gamma", 32))
    assert [u.prompt_tokens for u in seen] == [6, 6, 1]
    assert all(u.cost_usd is not None and u.gateway == "apipie" for u in seen)


def test_failover_to_the_second_gateway(replica: Replica) -> None:
    replica.apipie.enqueue(*[Fault.error(503, path=EMBEDDINGS_PATH)] * 3)
    embeddings = GatewayEmbeddings(
        gateway=["apipie", "aimlapi"],
        api_key={"apipie": KEY, "aimlapi": KEY},
        base_url={"apipie": replica.apipie.base_url, "aimlapi": replica.aimlapi.base_url},
        max_retries=0,
        dimensions=16,
    )
    assert embeddings.embed_documents(["x y"]) == [pytest.approx(vector("x y", 16))]
    assert [r.path for r in replica.aimlapi.requests] == [EMBEDDINGS_PATH]


def test_empty_text_is_refused_before_sending(replica: Replica) -> None:
    embeddings = GatewayEmbeddings(gateway="aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url)
    with pytest.raises(InvalidEmbeddingInputError, match="empty string"):
        embeddings.embed_documents(["fine", ""])
    assert replica.aimlapi.requests == []


def test_a_copy_gets_its_own_connections_and_a_changed_url_is_used(replica: Replica) -> None:
    embeddings = GatewayEmbeddings(gateway="apipie", api_key=KEY, base_url=replica.apipie.base_url)
    embeddings.embed_query("a")
    clone = copy.deepcopy(embeddings)
    clone.base_url = replica.aimlapi.base_url  # the same model is served there: the new URL must be used
    assert clone.embed_query("a") == embeddings.embed_query("a")
    assert [r.path for r in replica.aimlapi.requests] == [EMBEDDINGS_PATH]
    assert len(replica.apipie.requests) == 2


def test_retrieval_through_a_vector_store(replica: Replica) -> None:
    embeddings = GatewayEmbeddings(gateway="aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url)
    store = InMemoryVectorStore(embeddings)
    store.add_documents(
        [
            Document("The Eiffel Tower is in Paris", metadata={"topic": "eiffel"}),
            Document("Photosynthesis turns light into sugar in plants", metadata={"topic": "plants"}),
            Document("APIpie reports the cost of each request", metadata={"topic": "apipie"}),
        ]
    )
    found = store.as_retriever(search_kwargs={"k": 1}).invoke("where is the Eiffel Tower?")
    assert [d.metadata["topic"] for d in found] == ["eiffel"]
    found = asyncio.run(store.as_retriever(search_kwargs={"k": 1}).ainvoke("how do plants use light"))
    assert [d.metadata["topic"] for d in found] == ["plants"]
