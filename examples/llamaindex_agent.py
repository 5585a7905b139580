"""A LlamaIndex FunctionAgent with Hermes: tools from plain Python functions, run to a final answer.

    python examples/llamaindex_agent.py

On APIpie (this example) the tools go to Hermes in its own `<tool_call>` prompt format (the catalog's
tool_mode="auto" choice there) and the calls come back as ordinary LlamaIndex tool calls.
"""

from __future__ import annotations

import asyncio

from _replay import replaying
from llama_index.core.agent.workflow import AgentOutput, FunctionAgent, ToolCallResult

from llamaindex_hermes import Hermes

STOCK = {"widget": 42, "gadget": 0, "gizmo": 7}


def check_inventory(product: str) -> str:
    """Look up how many units of a product are in stock."""
    units = STOCK.get(product.strip().lower())
    return f"{units} units of {product} in stock" if units is not None else f"unknown product {product}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def main() -> None:
    llm = Hermes(model="hermes-3-llama-3.1-70b", gateway="apipie", temperature=0)
    agent = FunctionAgent(
        tools=[check_inventory, add],
        llm=llm,
        system_prompt="You are an inventory assistant. Use the tools to answer.",
    )
    handler = agent.run(user_msg="How many units of 'widget' does the inventory have in stock?")
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool call: {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
    result: object = await handler
    assert isinstance(result, AgentOutput)  # FunctionAgent.run's result
    print("answer:", result.response.content)


if __name__ == "__main__":
    with replaying("llamaindex_agent", gateways=("apipie",)):
        asyncio.run(main())
