"""`GatewayEmbedding` in LlamaIndex: VectorStoreIndex and Settings.embed_model (replayed from cassettes),
token counting through the callback and instrumentation events, embed_batch_size, async, and the key.

Cassettes: cassettes/replica/llamaindex/
(`python -m tests.record_cassettes tests/llamaindex/test_embedding.py`).
"""

from __future__ import annotations

import asyncio
import pickle
import re
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index_instrumentation import get_dispatcher

from hermes_gateway import InvalidEmbeddingInputError, Usage
from llamaindex_hermes import EmbeddingUsageEvent, GatewayEmbedding
from tests import cassette_support
from tests.replica import EMBEDDINGS_PATH, Fault, Replica, vector

CASSETTE_SUITE = "llamaindex"
KEY = "sk-llamaindex-embedding-key-4321"
DOCUMENTS = [
    Document(text="The Eiffel Tower in Paris is 330 metres tall.", metadata={"topic": "eiffel"}),
    Document(text="Photosynthesis lets plants turn light into sugar.", metadata={"topic": "plants"}),
    Document(text="APIpie reports the cost of every request in usage.", metadata={"topic": "apipie"}),
    Document(text="Mount Everest is 8,849 metres high.", metadata={"topic": "everest"}),
]


def recorded(gateway: str, **kwargs: Any) -> GatewayEmbedding:
    return GatewayEmbedding(
        gateway=gateway,
        base_url=cassette_support.gateway_base_url(gateway),
        api_key=cassette_support.gateway_api_key(gateway),
        dimensions=64,
        **kwargs,
    )


def words(text: str) -> list[str]:
    """The replica's token count is its word count: a tokenizer that agrees with the gateway's numbers."""
    return re.findall(r"\w+", text)


class _UsageEvents(BaseEventHandler):
    events: list[EmbeddingUsageEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "UsageEvents"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        if isinstance(event, EmbeddingUsageEvent):
            self.events.append(event)


@pytest.fixture
def usage_events() -> Iterator[list[EmbeddingUsageEvent]]:
    handler = _UsageEvents(events=[])
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler.events
    root.event_handlers.remove(handler)


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", ["apipie", "aimlapi"])
def test_vector_store_index_retrieves_and_tokens_are_counted(
    gateway: str, usage_events: list[EmbeddingUsageEvent]
) -> None:
    counter = TokenCountingHandler(tokenizer=words)
    index = VectorStoreIndex.from_documents(
        DOCUMENTS,
        embed_model=recorded(gateway, embed_batch_size=3),
        callback_manager=CallbackManager([counter]),  # LlamaIndex hands it to the embed model
    )
    [hit] = index.as_retriever(similarity_top_k=1).retrieve("How tall is the Eiffel Tower?")
    assert hit.node.metadata["topic"] == "eiffel"
    assert counter.total_embedding_token_count > 0
    assert len(counter.embedding_token_counts) == len(DOCUMENTS) + 1  # every chunk and the query
    assert [e.texts for e in usage_events] == [3, 1, 1]  # embed_batch_size=3: two batches, then the query
    assert sum(e.prompt_tokens for e in usage_events) == counter.total_embedding_token_count
    assert all(e.gateway == gateway and e.cost_usd is not None for e in usage_events)


@pytest.mark.vcr
async def test_settings_embed_model_and_async_retrieval() -> None:
    previous = Settings._embed_model
    Settings.embed_model = recorded("aimlapi")
    try:
        index = VectorStoreIndex.from_documents(DOCUMENTS, use_async=True)
        [hit] = await index.as_retriever(similarity_top_k=1).aretrieve("how do plants use light?")
    finally:
        Settings._embed_model = previous
    assert hit.node.metadata["topic"] == "plants"


def test_embed_batch_size_is_honoured_and_async_is_bounded(replica: Replica) -> None:
    seen: list[Usage] = []
    embed_model = GatewayEmbedding(
        gateway="apipie",
        api_key=KEY,
        base_url=replica.apipie.base_url,
        dimensions=16,
        embed_batch_size=3,
        num_workers=2,
        usage_hook=seen.append,
    )
    texts = [f"text number {i}" for i in range(8)]
    assert embed_model.get_text_embedding_batch(texts) == [pytest.approx(vector(t, 16)) for t in texts]
    assert asyncio.run(embed_model.aget_text_embedding_batch(texts)) == [
        pytest.approx(vector(t, 16)) for t in texts
    ]
    sizes = [len(r.json["input"]) for r in replica.apipie.requests]
    assert sorted(sizes) == [2, 2, 3, 3, 3, 3]
    assert len(seen) == 6
    assert embed_model.get_query_embedding("text") == pytest.approx(vector("text", 16))


def test_a_setting_changed_after_construction_is_used(replica: Replica) -> None:
    embed_model = GatewayEmbedding(
        gateway="aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, dimensions=8
    )
    assert len(embed_model.get_text_embedding("a")) == 8
    embed_model.dimensions = 32
    assert embed_model.get_text_embedding("a") == pytest.approx(vector("a", 32))


def test_errors_are_typed_and_bad_input_is_refused(replica: Replica) -> None:
    embed_model = GatewayEmbedding(
        gateway="aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, max_retries=0
    )
    with pytest.raises(InvalidEmbeddingInputError):
        embed_model.get_text_embedding_batch(["fine", ""])
    assert replica.aimlapi.requests == []
    replica.aimlapi.enqueue(Fault.error(503, "upstream busy", path=EMBEDDINGS_PATH))
    with pytest.raises(Exception, match="upstream busy") as caught:
        embed_model.get_text_embedding("hello")
    assert type(caught.value).__name__ == "ServerError"


def test_a_pickled_copy_embeds_the_same(replica: Replica) -> None:
    embed_model = GatewayEmbedding(
        gateway="aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url, dimensions=8
    )
    clone = pickle.loads(pickle.dumps(embed_model))
    assert clone.get_text_embedding("a b") == embed_model.get_text_embedding("a b")


def test_the_key_never_shows() -> None:
    embed_model = GatewayEmbedding(gateway="apipie", api_key=KEY)
    assert KEY not in repr(embed_model)
    assert KEY not in str(embed_model.to_dict())
    assert KEY not in embed_model.to_json()
    assert embed_model.model_name == "text-embedding-3-small"


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"gateway": "openai", "base_url": "http://127.0.0.1:8000/v1"}, "pass model="),
        ({"gateway": "apipie", "base_url": "http://example.com/v1"}, "refusing plain http"),
        ({"gateway": ["apipie", "aimlapi"], "api_key": "one-key"}, "mapping per gateway"),
        ({"gateway": "nowhere"}, "unknown gateway"),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        GatewayEmbedding(**kwargs)
