"""A LangChain tool-calling agent on a Hermes model: `bind_tools` and a short tool loop.

    python examples/langchain_agent.py

The loop is the one `create_agent` (from the `langchain` package, which brings LangGraph) runs for you:
ask the model, run the tools it calls, send the results back, stop when it answers in text. It is written
out here so the example needs only langchain-core. On AI/ML API (this example) Hermes 3 takes `tools`
natively; on APIpie the same code sends them in the Hermes `<tool_call>` prompt format instead
(tool_mode="auto" picks from the catalog), because APIpie hands `tools` requests to a separate model.
"""

from __future__ import annotations

from _replay import replaying
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

from langchain_hermes import ChatHermes

TEMPERATURES = {"paris": 18, "tokyo": 24, "oslo": 7}


@tool
def get_weather(city: str) -> str:
    """Get the current weather (temperature in Celsius) for a city."""
    degrees = TEMPERATURES.get(city.strip().lower())
    return f"{degrees} C and sunny in {city}" if degrees is not None else f"no weather data for {city}"


@tool
def multiply(a: float, b: float) -> float:
    """Multiply two numbers."""
    return a * b


def run_agent(question: str, tools: list[BaseTool], max_steps: int = 5) -> str:
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi", temperature=0)
    model = llm.bind_tools(tools)
    by_name = {t.name: t for t in tools}
    messages: list[BaseMessage] = [
        SystemMessage("You are a helpful assistant. Use the tools when they help."),
        HumanMessage(question),
    ]
    for _ in range(max_steps):
        reply = model.invoke(messages)
        assert isinstance(reply, AIMessage)
        messages.append(reply)
        if not reply.tool_calls:
            return str(reply.content)
        for call in reply.tool_calls:
            result = by_name[call["name"]].invoke(call["args"])
            print(f"tool call: {call['name']}({call['args']}) -> {result}")
            messages.append(ToolMessage(str(result), tool_call_id=call["id"], name=call["name"]))
    raise RuntimeError(f"no final answer after {max_steps} steps")


def main() -> None:
    answer = run_agent("What is the weather in Paris?", [get_weather, multiply])
    print("answer:", answer)


if __name__ == "__main__":
    with replaying("langchain_agent", gateways=("aimlapi",)):
        main()
