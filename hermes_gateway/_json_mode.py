"""Hermes JSON mode: the `<schema>` system prompt, and the JSON value pulled out of a reply.

For models or gateways without `response_format`, structured output is asked for the way Hermes was trained
(a system prompt holding the JSON schema) and the reply is read leniently: models wrap JSON in ```json fences,
put a `<think>` block or a sentence before it, or add a remark after it. Validation against the schema is the
adapters' job (pydantic), so this module stays dependency-free.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["extract_json", "json_schema_system_prompt"]

_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*(?:json[c5]?|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_EXCERPT = 80


def json_schema_system_prompt(schema: dict[str, Any]) -> str:
    """The Hermes JSON-mode system prompt for `schema` (a JSON schema dict)."""
    return (
        "You are a helpful assistant that answers in JSON. Here's the json schema you must adhere to:\n"
        f"<schema>\n{json.dumps(schema, ensure_ascii=False)}\n</schema>"
    )


def _balanced_end(text: str, start: int) -> int:
    """The index after the bracket that closes the one at `start` (string-aware), or -1."""
    stack: list[str] = []
    in_str = esc = False
    for k in range(start, len(text)):
        char = text[k]
        if in_str:
            if esc:
                esc = False
            elif char == "\\":
                esc = True
            elif char == '"':
                in_str = False
        elif char == '"':
            in_str = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]":
            if not stack or stack.pop() != char:
                return -1
            if not stack:
                return k + 1
    return -1


def _first_value(text: str) -> tuple[bool, Any]:
    """The first balanced object or array in `text` that decodes, as (found, value)."""
    stripped = text.strip()
    if stripped:
        try:
            return True, json.loads(stripped)
        except ValueError:
            pass
    for match in re.finditer(r"[{\[]", text):
        start = match.start()
        end = _balanced_end(text, start)
        if end < 0:
            continue
        try:
            return True, json.loads(text[start:end])
        except ValueError:
            continue
    return False, None


def extract_json(text: str) -> Any:
    """The JSON value in a model's reply: fenced, after reasoning, or between prose.

    Removes `<think>` blocks (and reasoning that ends with a stray `</think>`), prefers the first fenced
    block that decodes, else takes the first balanced object or array. Raises ValueError, quoting the start of
    the reply, when there is none.
    """
    body = _THINK_BLOCK.sub("", text)
    if "</think>" in body:
        body = body.rsplit("</think>", 1)[1]
    for fence in _FENCE.finditer(body):
        found, value = _first_value(fence.group(1))
        if found:
            return value
    found, value = _first_value(body)
    if found:
        return value
    excerpt = text.strip()
    if len(excerpt) > _EXCERPT:
        excerpt = excerpt[:_EXCERPT] + "..."
    raise ValueError(f"no JSON object or array found in the reply: {excerpt!r}")


def schema_from_response_format(response_format: Any) -> dict[str, Any] | None:
    """The JSON schema an OpenAI `response_format` asks for (`{"type": "object"}` for `json_object`), or None
    when it asks for no JSON (`text`, or a shape not known here).

    Used where `response_format` cannot be sent (`Dialect.accepts_response_format`, prompt mode): the schema
    then goes into the Hermes `<schema>` system prompt instead.
    """
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            return {"type": "object"}
        return {"title": spec["name"], **schema} if spec.get("name") and "title" not in schema else schema
    return None


def with_system_prompt(messages: list[dict[str, Any]], prompt: str) -> list[dict[str, Any]]:
    """`messages` with `prompt` leading the first system message (a new list; the input is not mutated).

    Merged rather than prepended as a second system message: several Hermes chat templates accept only one.
    """
    if messages and messages[0].get("role") == "system" and isinstance(messages[0].get("content"), str):
        return [{**messages[0], "content": f"{prompt}\n\n{messages[0]['content']}"}, *messages[1:]]
    return [{"role": "system", "content": prompt}, *messages]
