"""A RAG pipeline on one key: VectorStoreIndex over a few in-test documents embedded by `GatewayEmbedding`
(text-embedding-3-small on APIpie), answered by `Hermes` through a streaming query engine, sync and async.
Replayed from cassettes/replica/llamaindex/.
"""

from __future__ import annotations

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse

from llamaindex_hermes import GatewayEmbedding, Hermes
from tests import cassette_support

CASSETTE_SUITE = "llamaindex"

DOCUMENTS = [
    Document(
        text="The Eiffel Tower in Paris was completed in 1889 and is 330 metres tall.",
        metadata={"topic": "eiffel"},
    ),
    Document(
        text="The Great Wall of China is more than 21,000 kilometres long and was built over many centuries.",
        metadata={"topic": "wall"},
    ),
    Document(
        text="Mount Everest, on the border of Nepal and China, is 8,849 metres high.",
        metadata={"topic": "everest"},
    ),
]
QUESTION = "How tall is the Eiffel Tower in Paris?"


def make_embedding() -> GatewayEmbedding:
    return GatewayEmbedding(
        gateway="apipie",
        base_url=cassette_support.gateway_base_url("apipie"),
        api_key=cassette_support.gateway_api_key("apipie"),
        dimensions=64,
    )


def make_index() -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(DOCUMENTS, embed_model=make_embedding())


def make_llm() -> Hermes:
    return Hermes(
        model="hermes-3-llama-3.1-70b",
        gateway="apipie",
        base_url=cassette_support.gateway_base_url("apipie"),
        api_key=cassette_support.gateway_api_key("apipie"),
    )


@pytest.mark.vcr
def test_streaming_query_engine() -> None:
    engine = make_index().as_query_engine(llm=make_llm(), streaming=True, similarity_top_k=1)
    response = engine.query(QUESTION)
    assert isinstance(response, StreamingResponse)
    text = "".join(response.response_gen)
    assert text.strip()
    [node] = response.source_nodes
    assert node.metadata["topic"] == "eiffel"  # the embedding retrieved the right document


@pytest.mark.vcr
async def test_async_streaming_query_engine() -> None:
    engine = make_index().as_query_engine(llm=make_llm(), streaming=True, similarity_top_k=2)
    response = await engine.aquery(QUESTION)
    assert isinstance(response, AsyncStreamingResponse)
    text = "".join([piece async for piece in response.async_response_gen()])
    assert text.strip()
    assert response.source_nodes[0].metadata["topic"] == "eiffel"
