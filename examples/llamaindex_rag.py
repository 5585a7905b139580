"""Retrieval-augmented generation with LlamaIndex: a VectorStoreIndex over examples/data/, answered by Hermes
through a streaming query engine, with the sources it used.

    python examples/llamaindex_rag.py ["your question"]

The embedding is a small deterministic one defined here (hashed bag of words), so the example runs offline
with nothing to download; swap in any LlamaIndex embedding model for real use.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
from pathlib import Path

from _replay import replaying
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding

from llamaindex_hermes import Hermes

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_QUESTION = "How does APIpie report the cost of a request?"


class HashedBagOfWordsEmbedding(BaseEmbedding):
    """Each lower-cased word hashed into one of `dim` buckets, L2-normalised: texts that share words get
    similar vectors. Deterministic and offline; good enough to pick the right file out of three."""

    dim: int = 256

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


def load_documents() -> list[Document]:
    # Only the file name as metadata: it is what the answer cites, and it is the same on every machine.
    return [
        Document(text=path.read_text(encoding="utf-8"), metadata={"file_name": path.name})
        for path in sorted(DATA.glob("*.md"))
    ]


def main(question: str) -> None:
    index = VectorStoreIndex.from_documents(load_documents(), embed_model=HashedBagOfWordsEmbedding())
    llm = Hermes(model="hermes-3-llama-3.1-70b", gateway="apipie", temperature=0)
    engine = index.as_query_engine(llm=llm, streaming=True, similarity_top_k=1)
    response = engine.query(question)
    print("question:", question)
    print("answer:  ", end="")
    for text in response.response_gen:  # type: ignore[union-attr]  # streaming=True gives a StreamingResponse
        print(text, end="", flush=True)
    print()
    for node in response.source_nodes:
        print(f"source: {node.metadata['file_name']} (score {node.score:.2f})")


if __name__ == "__main__":
    with replaying("llamaindex_rag", gateways=("apipie",)):
        main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_QUESTION)
