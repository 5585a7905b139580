"""Quickstart: one Hermes question through LangChain and through LlamaIndex, with tokens and cost.

    python examples/quickstart.py

With APIPIE_API_KEY set this calls APIpie live; without it, it replays a recorded cassette (and says so).
"""

from __future__ import annotations

from _replay import replaying

from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes

MODEL = "hermes-3-llama-3.1-70b"  # a catalog name: resolved to each gateway's own id
QUESTION = "In one sentence, what is a Hermes model?"


def cost_text(cost: float | None) -> str:
    return "not reported" if cost is None else f"${cost:.6f}"


def main() -> None:
    # LangChain: a chat model like any other.
    llm = ChatHermes(model=MODEL, gateway="apipie")
    message = llm.invoke(QUESTION)
    usage = message.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    print("LangChain ChatHermes")
    print("  answer:", message.content)
    print(
        f"  tokens: {usage['input_tokens']} in, {usage['output_tokens']} out, {usage['total_tokens']} total"
    )
    print("  cost:  ", cost_text(message.response_metadata.get("cost_usd")))

    # LlamaIndex: the same model as a LlamaIndex LLM.
    li_llm = Hermes(model=MODEL, gateway="apipie")
    response = li_llm.complete(QUESTION)
    li_usage = response.raw["usage"] if response.raw else {}
    print("LlamaIndex Hermes")
    print("  answer:", response.text)
    print(
        f"  tokens: {li_usage.get('prompt_tokens')} in, {li_usage.get('completion_tokens')} out, "
        f"{li_usage.get('total_tokens')} total"
    )
    print("  cost:  ", cost_text(li_usage.get("cost_usd")))


if __name__ == "__main__":
    with replaying("quickstart", gateways=("apipie",)):
        main()
