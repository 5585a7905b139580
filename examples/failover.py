"""Failover between gateways: APIpie first, AI/ML API when APIpie is down or rate-limited.

    python examples/failover.py

`gateway=["apipie", "aimlapi"]` tries the gateways in order, each with its own key and its own id for the
model (the catalog resolves `hermes-3-llama-3.1-70b` on both). It moves on after connection errors, 5xx and
429 once that gateway's retries are spent — never on a 4xx caused by the request itself — and a stream fails
over only before its first chunk. `response_metadata["gateway"]` says which gateway answered.

The recorded cassette was made with the replica's APIpie answering 503 twice (the first try and its one
retry), so the replay shows a failover to AI/ML API; live, you will usually see APIpie answer.
"""

from __future__ import annotations

from _replay import replaying

from langchain_hermes import ChatHermes


def main() -> None:
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway=["apipie", "aimlapi"], max_retries=1)
    message = llm.invoke("Say hello from whichever gateway is up.")
    print("answer:   ", message.content)
    print("served by:", message.response_metadata["gateway"])


if __name__ == "__main__":
    with replaying("failover", gateways=("apipie", "aimlapi"), record_faults={"apipie": [503, 503]}):
        main()
