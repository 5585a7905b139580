"""JSON mode: the <schema> prompt and lenient JSON extraction."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hermes_gateway._json_mode import extract_json, json_schema_system_prompt

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def test_schema_prompt_is_the_hermes_json_mode_prompt() -> None:
    prompt = json_schema_system_prompt(SCHEMA)
    head = (
        "You are a helpful assistant that answers in JSON. "
        "Here's the json schema you must adhere to:\n<schema>\n"
    )
    assert prompt.startswith(head)
    assert prompt.endswith("\n</schema>")
    assert json.loads(prompt[len(head) : -len("\n</schema>")]) == SCHEMA


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"name": "Goku"}', {"name": "Goku"}),
        ('  [1, 2, {"a": null}]\n', [1, 2, {"a": None}]),
        ('```json\n{"name": "Goku"}\n```', {"name": "Goku"}),
        ('```\n{"name": "Goku"}\n```', {"name": "Goku"}),
        ('Here you go:\n```json\n{"name": "Goku"}\n```\nAnything else?', {"name": "Goku"}),
        ('Sure! {"name": "Goku", "note": "uses {braces} and \\"quotes\\""} Hope that helps.', None),
        ('<think>\nThe schema wants {name}.\n</think>\n{"name": "Goku"}', {"name": "Goku"}),
        ('reasoning with {"x": 1}</think>{"name": "Goku"}', {"name": "Goku"}),
        ('Two: {"a": 1} and {"b": 2}', {"a": 1}),
        ('{not json} then {"name": "ü 🌍"}', {"name": "ü 🌍"}),
        ('{"s": "]} inside"}', {"s": "]} inside"}),
        ("42", 42),
    ],
)
def test_extract_json(reply: str, expected: Any) -> None:
    if expected is None:
        expected = {"name": "Goku", "note": 'uses {braces} and "quotes"'}
    assert extract_json(reply) == expected


@pytest.mark.parametrize(
    "reply", ["", "I cannot answer that.", '{"unclosed": 1', "```json\n```", "<think>{}"]
)
def test_no_json_is_a_value_error_quoting_the_reply(reply: str) -> None:
    with pytest.raises(ValueError, match="no JSON object or array found"):
        extract_json(reply)


def test_the_error_excerpt_is_short() -> None:
    with pytest.raises(ValueError, match=r"'x{80}\.\.\.'") as info:
        extract_json("x" * 500)
    assert len(str(info.value)) < 200


# --- response_format → <schema> prompt, shared by both adapters ------------------------------------------


def test_schema_from_response_format_shapes() -> None:
    from hermes_gateway._json_mode import schema_from_response_format

    assert schema_from_response_format({"type": "json_object"}) == {"type": "object"}
    assert schema_from_response_format({"type": "text"}) is None
    assert schema_from_response_format(None) is None
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "W", "schema": schema}}
    named = schema_from_response_format(fmt)
    assert named == {"title": "W", **schema}
    titled = {**schema, "title": "Own"}
    fmt = {"type": "json_schema", "json_schema": {"name": "W", "schema": titled}}
    kept = schema_from_response_format(fmt)
    assert kept == titled
    assert schema_from_response_format({"type": "json_schema", "json_schema": {}}) == {"type": "object"}


def test_with_system_prompt_merges_into_the_first_system_message_without_mutating() -> None:
    from hermes_gateway._json_mode import with_system_prompt

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    merged = with_system_prompt(messages, "Answer in JSON.")
    assert merged[0] == {"role": "system", "content": "Answer in JSON.\n\nBe brief."}
    assert merged[1] is messages[1]
    assert messages[0]["content"] == "Be brief."
    no_system = with_system_prompt([{"role": "user", "content": "Hi"}], "P")
    assert no_system == [{"role": "system", "content": "P"}, {"role": "user", "content": "Hi"}]
