"""Tool loops and structured output through `Hermes`, replayed from cassettes.

Three tool paths are covered: native `tools` (Hermes 3 on AI/ML API), the Hermes prompt format for a model
never trained on tools (Nous-Hermes-2-Mixtral on APIpie, `tool_mode="auto"` → prompt mode), and a provider
that accepts `tools` but leaves the calls as `<tool_call>` text in content (Hermes 4 on APIpie, forced
native). Assertions hold for a real model: which tool was called and with which argument, not the wording.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, AgentWorkflow, FunctionAgent, ToolCallResult
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool, ToolOutput
from pydantic import BaseModel

from llamaindex_hermes import Hermes
from tests import cassette_support

CASSETTE_SUITE = "llamaindex"

TOOL_PATHS = [
    pytest.param("aimlapi", "hermes-3-llama-3.1-70b", "auto", id="native-hermes3-aimlapi"),
    pytest.param("apipie", "nous-hermes-2-mixtral-8x7b-dpo", "auto", id="prompt-mixtral-apipie"),
    pytest.param("apipie", "hermes-4-70b", "native", id="text-calls-hermes4-apipie"),
]


def make_llm(gateway: str, model: str, tool_mode: str = "auto") -> Hermes:
    return Hermes(
        model=model,
        gateway=gateway,
        base_url=cassette_support.gateway_base_url(gateway),
        api_key=cassette_support.gateway_api_key(gateway),
        tool_mode=tool_mode,  # type: ignore[arg-type]
    )


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 21 degrees Celsius in {city}."


def get_server_time() -> str:
    """Get the current time on the server (no arguments)."""
    return "2025-01-01T12:00:00Z"


class Person(BaseModel):
    """A person mentioned in a text."""

    name: str
    age: int


async def _run_agent(agent: Any, question: str) -> tuple[list[ToolCallResult], str, list[AgentStream]]:
    handler = agent.run(user_msg=question)
    calls: list[ToolCallResult] = []
    stream: list[AgentStream] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            calls.append(event)
        elif isinstance(event, AgentStream):
            stream.append(event)
    result = await handler
    return calls, str(result), stream


@pytest.mark.vcr
@pytest.mark.parametrize(("gateway", "model", "tool_mode"), TOOL_PATHS)
async def test_function_agent_tool_loop(gateway: str, model: str, tool_mode: str) -> None:
    agent = FunctionAgent(
        tools=[FunctionTool.from_defaults(get_weather)],
        llm=make_llm(gateway, model, tool_mode),
        system_prompt="You are a helpful assistant. Use tools when they help.",
    )
    calls, answer, stream = await _run_agent(agent, "What is the weather in Paris?")
    assert [c.tool_name for c in calls] == ["get_weather"]
    assert "paris" in calls[0].tool_kwargs["city"].lower()
    assert not calls[0].tool_output.is_error
    assert answer.strip()
    assert stream  # the agent streamed (astream_chat_with_tools + get_tool_calls_from_response per chunk)
    assert not any("<tool_call>" in event.response for event in stream)


@pytest.mark.vcr
async def test_agent_workflow_with_a_zero_argument_tool() -> None:
    workflow = AgentWorkflow.from_tools_or_functions(
        [get_server_time, get_weather],
        llm=make_llm("aimlapi", "hermes-3-llama-3.1-70b"),
        system_prompt="You are a helpful assistant. Use tools when they help.",
    )
    calls, answer, _ = await _run_agent(
        workflow, "What is the current server time? Use the get_server_time tool."
    )
    assert calls
    assert {c.tool_name for c in calls} == {"get_server_time"}
    assert all(c.tool_kwargs == {} for c in calls)  # {} for a zero-argument tool, never None
    assert not any(c.tool_output.is_error for c in calls)
    assert answer.strip()


@pytest.mark.vcr
@pytest.mark.parametrize(("gateway", "model", "tool_mode"), TOOL_PATHS[:2])
def test_predict_and_call(gateway: str, model: str, tool_mode: str) -> None:
    llm = make_llm(gateway, model, tool_mode)
    history = [ChatMessage(role="system", content="You are a weather assistant.")]
    before = list(history)
    output = llm.predict_and_call(
        [FunctionTool.from_defaults(get_weather)],
        user_msg="What is the weather in Oslo?",
        chat_history=history,
    )
    assert history == before  # the caller's history is not mutated
    [source] = output.sources
    assert source.tool_name == "get_weather"
    assert "oslo" in _city_argument(source).lower()
    assert "Oslo" in output.response


@pytest.mark.vcr
async def test_apredict_and_call() -> None:
    llm = make_llm("aimlapi", "hermes-3-llama-3.1-70b")
    output = await llm.apredict_and_call(
        [FunctionTool.from_defaults(get_weather)], user_msg="What is the weather in Lisbon?"
    )
    assert "lisbon" in _city_argument(output.sources[0]).lower()


def _city_argument(source: ToolOutput) -> str:
    """The `city` a tool was called with.

    Older llama-index-core releases (0.14.5, the lowest we support) pass a one-argument tool its argument
    positionally; current ones by keyword.
    """
    city = source.raw_input["kwargs"].get("city") or source.raw_input["args"][0]
    assert isinstance(city, str)
    return city


PERSON_PROMPT = PromptTemplate("Extract the person from this text: {text}")
PERSON_TEXT = "My colleague Alice is 30 years old."


@pytest.mark.vcr
@pytest.mark.parametrize(("gateway", "model", "tool_mode"), TOOL_PATHS[:2])
def test_structured_predict(gateway: str, model: str, tool_mode: str) -> None:
    person = make_llm(gateway, model, tool_mode).structured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT)
    assert isinstance(person, Person)
    assert "alice" in person.name.lower()
    assert person.age == 30


@pytest.mark.vcr
async def test_astructured_predict_and_structured_llm() -> None:
    llm = make_llm("aimlapi", "hermes-3-llama-3.1-70b")
    person = await llm.astructured_predict(Person, PERSON_PROMPT, text=PERSON_TEXT)
    assert (person.name.lower(), person.age) == ("alice", 30)
    structured = llm.as_structured_llm(Person)
    response = structured.chat([ChatMessage(role="user", content=f"Extract the person: {PERSON_TEXT}")])
    assert isinstance(response.raw, Person)
    assert response.raw.age == 30
