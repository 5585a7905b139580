"""Failover between gateways: APIpie first, AI/ML API when APIpie is down or rate-limited.

    python examples/failover.py

`gateway=["apipie", "aimlapi"]` tries the gateways in order, each with its own key and its own id for the
model (the catalog resolves `hermes-3-llama-3.1-70b` on both). It moves on after connection errors, 5xx and
429 once that gateway's retries are spent — never on a 4xx caused by the request itself — and a stream fails
over only before its first chunk. LangChain's `response_metadata["gateway"]` and LlamaIndex's
`raw["gateway"]` say which gateway answered.

The recorded cassette was made with the replica's APIpie answering 503 to each call and its one retry, so
the replay shows a failover to AI/ML API; live, you will usually see APIpie answer.
"""

from __future__ import annotations

from _replay import replaying

from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes


def main() -> None:
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway=["apipie", "aimlapi"], max_retries=1)
    message = llm.invoke("Say hello from whichever gateway is up.")
    print("LangChain answer: ", message.content)
    print("LangChain served by:", message.response_metadata["gateway"])

    li_llm = Hermes(model="hermes-3-llama-3.1-70b", gateway=["apipie", "aimlapi"], max_retries=1)
    response = li_llm.complete("Say hello from whichever gateway is up.")
    print("LlamaIndex answer: ", response.text)
    print("LlamaIndex served by:", response.raw["gateway"] if response.raw else None)


if __name__ == "__main__":
    with replaying("failover", gateways=("apipie", "aimlapi"), record_faults={"apipie": [503] * 4}):
        main()
