"""Retrieval-augmented generation with LlamaIndex on one key: a VectorStoreIndex over examples/data/
embedded by the gateway's embedding model (`GatewayEmbedding`), answered by Hermes through a streaming query
engine, with the sources it used.

    python examples/llamaindex_rag.py ["your question"]

Both the embeddings and the answer go through APIpie with APIPIE_API_KEY; without a key the example replays
its recorded cassette.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _replay import replaying
from llama_index.core import Document, Settings, VectorStoreIndex

from llamaindex_hermes import GatewayEmbedding, Hermes

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_QUESTION = "How does APIpie report the cost of a request?"


def load_documents() -> list[Document]:
    # Only the file name as metadata: it is what the answer cites, and it is the same on every machine.
    return [
        Document(text=path.read_text(encoding="utf-8"), metadata={"file_name": path.name})
        for path in sorted(DATA.glob("*.md"))
    ]


def main(question: str) -> None:
    # text-embedding-3-small (APIpie's default embedding model) at 256 dimensions: plenty for a few files.
    Settings.embed_model = GatewayEmbedding(gateway="apipie", dimensions=256)
    index = VectorStoreIndex.from_documents(load_documents())
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
