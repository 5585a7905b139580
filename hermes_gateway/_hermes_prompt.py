"""The request side of Hermes prompt mode: tools into the system prompt, histories into Hermes text.

When a model or gateway cannot take the `tools` field (models never trained on a tool format, gateways that
refuse or drop `tools`), the request carries no `tools` at all: the tools go into the Hermes function-calling
system prompt inside `<tools></tools>`, the assistant's earlier calls are written back as `<tool_call>` blocks
and tool results as `<tool_response>` blocks, exactly as Hermes 2 Pro / 3 / 4 were trained. The reply side is
`_hermes_parser.HermesTextParser`.

Everything here is pure and returns new objects: the caller's messages are never mutated.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Literal

__all__ = [
    "FUNCTION_CALL_SCHEMA",
    "render_tool_call",
    "render_tool_response",
    "render_tools_system_prompt",
    "to_hermes_messages",
    "tool_choice_instruction",
]

FUNCTION_CALL_SCHEMA: dict[str, Any] = {
    "properties": {
        "arguments": {"title": "Arguments", "type": "object"},
        "name": {"title": "Name", "type": "string"},
    },
    "required": ["arguments", "name"],
    "title": "FunctionCall",
    "type": "object",
}
"""The pydantic `FunctionCall` schema the Hermes function-calling prompt shows the model."""

_PROMPT_HEAD = (
    "You are a function calling AI model. You are provided with function signatures within <tools></tools> "
    "XML tags. You may call one or more functions to assist with the user query. Don't make assumptions "
    "about what values to plug into functions. Here are the available tools: <tools>\n"
)
_PROMPT_TAIL = (
    "\n</tools>\nUse the following pydantic model json schema for each tool call you will make: "
    + json.dumps(FUNCTION_CALL_SCHEMA)
    + "\nFor each function call return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags as follows:\n"
    '<tool_call>\n{"arguments": <args-dict>, "name": <function-name>}\n</tool_call>'
)


def _as_openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """`{"type": "function", "function": {...}}`; a bare function dict (name, parameters) is wrapped."""
    if "function" in tool:
        return tool
    return {"type": "function", "function": tool}


def render_tools_system_prompt(tools: list[dict[str, Any]]) -> str:
    """The Hermes function-calling system prompt for OpenAI-style tools (one JSON object per line)."""
    listed = "\n".join(json.dumps(_as_openai_tool(tool), ensure_ascii=False) for tool in tools)
    return _PROMPT_HEAD + listed + _PROMPT_TAIL


def tool_choice_instruction(tool_choice: str | dict[str, Any] | None) -> str | None:
    """The sentence that asks for OpenAI's `tool_choice` in prompt mode, or None when there is nothing to ask.

    "auto" / None → None; "required" / "any" → a tool must be called; a tool name (or
    `{"type": "function", "function": {"name": ...}}`) → that tool must be called; "none" → None (the caller
    leaves the tools out of the prompt: see `to_hermes_messages(tool_choice="none")`).
    """
    if tool_choice is None:
        return None
    name: str | None
    if isinstance(tool_choice, dict):
        fn = tool_choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else tool_choice.get("name")
        if not isinstance(name, str) or not name:
            return None
    elif tool_choice in ("auto", "none"):
        return None
    elif tool_choice in ("required", "any"):
        return (
            "You must call at least one of the tools above; answer with <tool_call></tool_call> blocks only."
        )
    else:
        name = tool_choice
    return f"You must call the tool {json.dumps(name)}; answer with a <tool_call></tool_call> block only."


def _text_of(content: Any) -> str:
    """Message content as text: a string as is, a list of parts as its text parts joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "".join(texts)
    return str(content)


def _json_or_text(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "[", '"') or stripped in ("true", "false", "null") or stripped[:1].isdigit():
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


def render_tool_call(name: str, arguments: Any) -> str:
    """One `<tool_call>` block; `arguments` as a JSON text (decoded when it parses) or an object."""
    if isinstance(arguments, str):
        arguments = _json_or_text(arguments) if arguments.strip() else {}
    body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def render_tool_response(name: str, content: Any) -> str:
    """One `<tool_response>` block; content that is JSON text goes in as JSON, anything else as a string."""
    value = _json_or_text(_text_of(content))
    body = json.dumps({"name": name, "content": value}, ensure_ascii=False)
    return f"<tool_response>\n{body}\n</tool_response>"


def _assistant_text(message: dict[str, Any]) -> str:
    pieces = [_text_of(message.get("content"))] if _text_of(message.get("content")) else []
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        pieces.append(render_tool_call(str(fn.get("name", "")), fn.get("arguments", "{}")))
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        pieces.append(render_tool_call(str(legacy.get("name", "")), legacy.get("arguments", "{}")))
    return "\n".join(pieces)


def to_hermes_messages(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    *,
    tool_role: Literal["tool", "user"] = "tool",
    tool_choice: str | dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """A new message list for a request without `tools`: the Hermes tool prompt and Hermes-text history.

    - One system message first: the tools prompt (plus the `tool_choice` instruction), then the text of every
      system / developer message of the conversation, in order (some templates accept one system message).
      With no tools, or `tool_choice="none"`, the system messages are kept without a tools prompt.
    - Assistant messages with `tool_calls` become content text followed by `<tool_call>` blocks.
    - Tool results become `<tool_response>` blocks named after the call they answer (found by
      `tool_call_id`): in a `tool` message with `name` (Hermes 3 and later), or, with `tool_role="user"`
      (gateways that accept no tool role), in user messages, consecutive results merged into one.
    """
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            if call.get("id") is not None:
                names[str(call["id"])] = str(fn.get("name", ""))

    system_texts: list[str] = []
    if tools and tool_choice != "none":
        system_texts.append(render_tools_system_prompt(tools))
        instruction = tool_choice_instruction(tool_choice)
        if instruction:
            system_texts.append(instruction)

    out: list[dict[str, Any]] = []
    merged_user: dict[str, Any] | None = None  # the user message collecting consecutive tool results
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            text = _text_of(message.get("content"))
            if text:
                system_texts.append(text)
            continue
        if role == "tool":
            call_id = message.get("tool_call_id")
            name = names.get(str(call_id), "") if call_id is not None else ""
            name = name or str(message.get("name") or "")
            block = render_tool_response(name, message.get("content"))
            if tool_role == "user":
                if merged_user is not None:
                    merged_user["content"] += "\n" + block
                else:
                    merged_user = {"role": "user", "content": block}
                    out.append(merged_user)
                continue
            tool_message: dict[str, Any] = {"role": "tool", "name": name, "content": block}
            if call_id is not None:
                tool_message["tool_call_id"] = call_id
            out.append(tool_message)
        elif role == "assistant" and (message.get("tool_calls") or message.get("function_call")):
            rendered = {
                k: copy.deepcopy(v) for k, v in message.items() if k not in ("tool_calls", "function_call")
            }
            rendered["content"] = _assistant_text(message)
            out.append(rendered)
        else:
            out.append(copy.deepcopy(message))
        merged_user = None

    if system_texts:
        out.insert(0, {"role": "system", "content": "\n\n".join(system_texts)})
    return out
