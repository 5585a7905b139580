"""A LangChain agent on a Hermes model: `langchain.agents.create_agent` with two `@tool` functions.

    python examples/langchain_agent.py

`create_agent` runs the loop (ask the model, run the tools it calls, send the results back, stop when it
answers in text); ChatHermes is just its model. tool_mode="auto" (the default) sends the tools in the
Hermes `<tool_call>` prompt format Hermes is trained on wherever native tools are not confirmed: on APIpie
(which hands `tools` requests to a separate model) and on AI/ML API (this example: its spec declares
`tools` for Hermes 3, unconfirmed). `tool_mode="native"` sends the OpenAI `tools` field instead.
"""

from __future__ import annotations

from _replay import replaying
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

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


def main() -> None:
    agent = create_agent(
        model=ChatHermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi", temperature=0),
        tools=[get_weather, multiply],
        system_prompt="You are a helpful assistant. Use the tools when they help.",
    )
    result = agent.invoke({"messages": [{"role": "user", "content": "What is the weather in Paris?"}]})
    messages = result["messages"]
    outputs = {m.tool_call_id: m.content for m in messages if isinstance(m, ToolMessage)}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                print(f"tool call: {call['name']}({call['args']}) -> {outputs.get(call['id'] or '')}")
    print("answer:", messages[-1].text)


if __name__ == "__main__":
    with replaying("langchain_agent", gateways=("aimlapi",)):
        main()
