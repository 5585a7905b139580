"""Retrieval with LangChain on one key: an in-memory vector store over examples/data/ embedded by the
gateway's embedding model (`GatewayEmbeddings`), its `as_retriever()` in an LCEL chain that answers with
ChatHermes and cites its sources.

    python examples/langchain_retrieval.py ["your question"]

Embeddings and answer both go through AI/ML API with AIMLAPI_API_KEY; without a key the example replays its
recorded cassette.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _replay import replaying
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableParallel, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from langchain_hermes import ChatHermes, GatewayEmbeddings

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_QUESTION = "Where does AI/ML API report the cost of a request?"

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from the context only, in one or two sentences, and name the file you used."),
        ("human", "Context:\n{context}\n\nQuestion: {question}"),
    ]
)


def load_documents() -> list[Document]:
    return [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name})
        for path in sorted(DATA.glob("*.md"))
    ]


def format_docs(docs: list[Document]) -> str:
    return "\n\n".join(f"[{d.metadata['source']}]\n{d.page_content}" for d in docs)


def main(question: str) -> None:
    embeddings = GatewayEmbeddings(gateway="aimlapi", dimensions=256)  # text-embedding-3-small
    store = InMemoryVectorStore.from_documents(load_documents(), embeddings)
    retriever = store.as_retriever(search_kwargs={"k": 1})
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi", temperature=0)

    answer = PROMPT | llm | StrOutputParser()
    chain = RunnableParallel(docs=retriever, question=RunnablePassthrough()).assign(
        answer=lambda x: answer.invoke({"context": format_docs(x["docs"]), "question": x["question"]})
    )
    result = chain.invoke(question)
    print("question:", question)
    print("answer:  ", result["answer"])
    for doc in result["docs"]:
        print("source:", doc.metadata["source"])


if __name__ == "__main__":
    with replaying("langchain_retrieval", gateways=("aimlapi",)):
        main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_QUESTION)
