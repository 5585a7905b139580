"""An LCEL pipeline: prompt | ChatHermes | output parser, invoked, batched and streamed.

python examples/lcel_pipeline.py
"""

from __future__ import annotations

from _replay import replaying
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from langchain_hermes import ChatHermes


def main() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a concise technical writer."),
            ("human", "Explain {topic} in one sentence."),
        ]
    )
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="apipie", temperature=0)
    chain = prompt | llm | StrOutputParser()

    print("invoke:", chain.invoke({"topic": "server-sent events"}))
    # batch: one request each (max_concurrency=1 keeps the order of recorded requests stable).
    answers = chain.batch([{"topic": "retries"}, {"topic": "rate limits"}], config={"max_concurrency": 1})
    for answer in answers:
        print("batch: ", answer)
    print("stream:", "|".join(chain.stream({"topic": "tokenizers"})))


if __name__ == "__main__":
    with replaying("lcel_pipeline", gateways=("apipie",)):
        main()
