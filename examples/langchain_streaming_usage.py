"""Streaming with ChatHermes, and the tokens and USD cost of every call in a block.

    python examples/langchain_streaming_usage.py

`get_hermes_usage_callback()` works like LangChain's `get_openai_callback()`, but the cost is the gateway's
own figure (APIpie `usage.cost`, AI/ML API `meta.usage.usd_spent`), kept per model; a request whose cost
the gateway did not report is counted in `requests_without_cost`, never as $0.
"""

from __future__ import annotations

import sys

from _replay import replaying

from langchain_hermes import ChatHermes, get_hermes_usage_callback


def main() -> None:
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="apipie")
    with get_hermes_usage_callback() as cb:
        print("stream: ", end="")
        chunks = 0
        for chunk in llm.stream("Write two sentences about streaming APIs."):
            print(chunk.content, end="", flush=True)
            chunks += 1
        print()
        print(f"chunks received: {chunks}")
        llm.invoke("And one sentence about batching.")
    print(f"requests: {cb.successful_requests}")
    print(f"tokens: {cb.prompt_tokens} in, {cb.completion_tokens} out, {cb.total_tokens} total")
    print(f"cost: ${cb.total_cost:.6f} (requests without a reported cost: {cb.requests_without_cost})")
    for model, usage in cb.by_model.items():
        print(f"  {model}: {usage.total_tokens} tokens, ${usage.total_cost:.6f}")
    sys.stdout.flush()


if __name__ == "__main__":
    with replaying("langchain_streaming_usage", gateways=("apipie",)):
        main()
