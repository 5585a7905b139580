"""Prompt mode, request side: the tools system prompt and Hermes-text histories."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from hermes_gateway._hermes_parser import HermesTextParser
from hermes_gateway._hermes_prompt import (
    FUNCTION_CALL_SCHEMA,
    render_tool_call,
    render_tools_system_prompt,
    to_hermes_messages,
    tool_choice_instruction,
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def _history() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather and time in Paris?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"temp_c": 21, "sky": "clear"}'},
        {"role": "tool", "tool_call_id": "c2", "content": "14:05"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Thanks! "}, {"type": "text", "text": "And Oslo?"}],
        },
    ]


def _tools_json_in(prompt: str) -> list[Any]:
    match = re.search(r"<tools>\n(.*)\n</tools>", prompt, re.DOTALL)
    assert match is not None
    return [json.loads(line) for line in match.group(1).splitlines()]


def test_tools_prompt_lists_each_tool_as_openai_json_and_shows_the_format() -> None:
    prompt = render_tools_system_prompt([WEATHER, TIME])
    assert prompt.startswith("You are a function calling AI model.")
    assert _tools_json_in(prompt) == [WEATHER, TIME]
    assert json.dumps(FUNCTION_CALL_SCHEMA) in prompt
    assert prompt.endswith('<tool_call>\n{"arguments": <args-dict>, "name": <function-name>}\n</tool_call>')


def test_tools_prompt_wraps_bare_function_dicts() -> None:
    prompt = render_tools_system_prompt([WEATHER["function"]])
    assert _tools_json_in(prompt) == [WEATHER]


def test_system_message_comes_first_with_the_users_system_text_after_the_tools() -> None:
    out = to_hermes_messages(_history(), [WEATHER, TIME])
    assert [m["role"] for m in out] == ["system", "user", "assistant", "tool", "tool", "user"]
    system = out[0]["content"]
    assert system.startswith("You are a function calling AI model.")
    assert system.endswith("\n\nYou are terse.")
    assert sum(m["role"] == "system" for m in out) == 1


def test_several_system_messages_are_merged_in_order() -> None:
    messages = [
        {"role": "system", "content": "One."},
        {"role": "user", "content": "hi"},
        {"role": "system", "content": [{"type": "text", "text": "Two."}]},
    ]
    out = to_hermes_messages(messages, [TIME])
    assert out[0]["content"].endswith("\n\nOne.\n\nTwo.")
    assert [m["role"] for m in out] == ["system", "user"]


def test_assistant_tool_calls_become_tool_call_blocks_the_parser_reads_back() -> None:
    out = to_hermes_messages(_history(), [WEATHER, TIME])
    assistant = out[2]
    assert "tool_calls" not in assistant
    assert assistant["content"] == (
        "Checking.\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
    )
    parser = HermesTextParser(id_factory=str)
    parsed = parser.feed(assistant["content"])
    calls = parsed.tool_calls + parser.finish().tool_calls
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]


def test_tool_results_are_tool_responses_named_after_their_call() -> None:
    out = to_hermes_messages(_history(), [WEATHER, TIME])
    first, second = out[3], out[4]
    assert first == {
        "role": "tool",
        "name": "get_weather",
        "tool_call_id": "c1",
        "content": '<tool_response>\n{"name": "get_weather", "content": {"temp_c": 21, "sky": "clear"}}\n'
        "</tool_response>",
    }
    assert second["name"] == "get_time"
    assert second["content"] == '<tool_response>\n{"name": "get_time", "content": "14:05"}\n</tool_response>'


def test_tool_role_user_merges_consecutive_results_into_one_user_message() -> None:
    out = to_hermes_messages(_history(), [WEATHER, TIME], tool_role="user")
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user", "user"]
    merged = out[3]["content"]
    assert merged.count("<tool_response>") == 2
    assert merged.index("get_weather") < merged.index("get_time")
    assert "tool_call_id" not in out[3]
    assert out[4]["content"] == [{"type": "text", "text": "Thanks! "}, {"type": "text", "text": "And Oslo?"}]


def test_tool_result_content_given_as_parts_and_name_fallback() -> None:
    messages = [
        {
            "role": "tool",
            "tool_call_id": "unknown",
            "name": "lookup",
            "content": [{"type": "text", "text": "[1, 2]"}],
        }
    ]
    out = to_hermes_messages(messages, [])
    assert out == [
        {
            "role": "tool",
            "name": "lookup",
            "tool_call_id": "unknown",
            "content": '<tool_response>\n{"name": "lookup", "content": [1, 2]}\n</tool_response>',
        }
    ]


def test_inputs_are_never_mutated_and_outputs_share_no_nested_objects() -> None:
    history = _history()
    tools = [WEATHER, TIME]
    before, tools_before = copy.deepcopy(history), copy.deepcopy(tools)
    out = to_hermes_messages(history, tools, tool_role="user")
    assert history == before
    assert tools == tools_before
    out[-1]["content"][0]["text"] = "changed"
    assert history[-1]["content"][0]["text"] == "Thanks! "


def test_no_tools_keeps_system_messages_and_still_renders_the_history() -> None:
    out = to_hermes_messages(_history(), [])
    assert out[0] == {"role": "system", "content": "You are terse."}
    assert "<tool_call>" in out[2]["content"]


def test_no_system_message_at_all_when_there_is_nothing_to_say() -> None:
    assert to_hermes_messages([{"role": "user", "content": "hi"}], []) == [{"role": "user", "content": "hi"}]


def test_tool_choice_none_leaves_the_tools_out() -> None:
    out = to_hermes_messages(_history(), [WEATHER], tool_choice="none")
    assert "<tools>" not in out[0]["content"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", None),
        ("none", None),
        ("required", "at least one"),
        ("any", "at least one"),
        ("get_weather", '"get_weather"'),
        ({"type": "function", "function": {"name": "get_time"}}, '"get_time"'),
        ({"type": "function"}, None),
    ],
)
def test_tool_choice_instruction(choice: Any, expected: str | None) -> None:
    sentence = tool_choice_instruction(choice)
    if expected is None:
        assert sentence is None
    else:
        assert sentence is not None
        assert expected in sentence


def test_tool_choice_instruction_is_added_to_the_system_prompt() -> None:
    out = to_hermes_messages([{"role": "user", "content": "hi"}], [WEATHER], tool_choice="get_weather")
    assert out[0]["content"].endswith(
        'You must call the tool "get_weather"; answer with a <tool_call></tool_call> block only.'
    )


def test_render_tool_call_keeps_unparseable_arguments_as_a_string() -> None:
    assert (
        render_tool_call("f", "not json")
        == '<tool_call>\n{"name": "f", "arguments": "not json"}\n</tool_call>'
    )
    assert render_tool_call("f", "") == '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>'
