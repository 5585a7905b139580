"""A RAG pipeline with `Hermes` as the LLM: VectorStoreIndex over a few in-test documents, retrieved with a
small deterministic embedding (hashed bag of words, defined here so the test is offline), answered by a
streaming query engine, sync and async. Replayed from cassettes/replica/llamaindex/.
"""

from __future__ import annotations

import hashlib
import math
import re

import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse

from llamaindex_hermes import Hermes
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


class HashedBagOfWordsEmbedding(BaseEmbedding):
    """Deterministic, offline embedding: each lower-cased word hashed (sha256) into one of `dim` buckets,
    L2-normalised. Texts sharing words get similar vectors, which is all retrieval needs here."""

    dim: int = 64

    @classmethod
    def class_name(cls) -> str:
        return "HashedBagOfWordsEmbedding"

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % self.dim
            vector[bucket] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed(text)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._embed(query)


def make_index() -> VectorStoreIndex:
    return VectorStoreIndex.from_documents(DOCUMENTS, embed_model=HashedBagOfWordsEmbedding())


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
