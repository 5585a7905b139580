"""The text of one tool-call block → (name, arguments, valid) calls. Pure; used by `_hermes_parser`.

Strict JSON first (the documented format, and the fast path). Only a block that strict parsing refuses goes
through `_lenient_json` (Python-style dicts, literal newlines in strings, trailing commas, a missing final
`}` when every value before it is complete). A block that is still not a call comes out as ONE invalid call
with the name that could be read and the raw text as its arguments, so adapters report it; it is never lost
and never completed from a value cut mid-way.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._lenient_json import loads_lenient

__all__ = ["Call", "block_calls", "function_tag_calls", "parse_tool_call_block"]

Call = tuple[str, str, bool]
"""(name, arguments as JSON text, valid): valid means a non-empty name and arguments that are an object."""

_NAME_RE = re.compile(r"""(["'])name\1\s*:\s*(["'])((?:(?!\2)[^\\]|\\.)*)\2""")
_FENCE_RE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
_PARAM_RE = re.compile(r"<parameter=([^>\s]+)>\n?(.*?)\n?</parameter>", re.DOTALL)
_DECODER = json.JSONDecoder()
_WS = re.compile(r"\s*")


def _arguments(args: Any) -> tuple[str, bool]:
    """Arguments as JSON text, and whether they are an object. A string holding JSON is unwrapped (repaired
    if need be); a string that is not JSON is kept raw (invalid)."""
    if args is None:
        return "{}", True
    if isinstance(args, str):
        text = args.strip()
        if not text:
            return "{}", True
        try:
            value = json.loads(text)
        except ValueError:
            try:
                values = loads_lenient(text)
            except ValueError:
                return args, False
            if len(values) != 1:
                return args, False
            return json.dumps(values[0], ensure_ascii=False), isinstance(values[0], dict)
        return text, isinstance(value, dict)
    return json.dumps(args, ensure_ascii=False), isinstance(args, dict)


def _is_schema(args: Any) -> bool:
    """A tool *definition* echoed back (`parameters` holding a JSON schema), not a call."""
    return isinstance(args, dict) and args.get("type") == "object" and "properties" in args


def call_from(obj: Any, raw: str) -> Call:
    """One decoded object → a call; ("" or the recoverable name, raw text, False) when it is not one."""
    if isinstance(obj, dict):
        fn = obj.get("function")
        if "name" not in obj and isinstance(fn, dict):
            obj = fn  # OpenAI shape: {"type": "function", "function": {...}}
        name = obj.get("name")
        if isinstance(name, str) and name:
            if "arguments" in obj:
                args = obj["arguments"]
            else:
                args = obj.get("parameters")
                if _is_schema(args):
                    return name, raw, False
            text, valid = _arguments(args)
            return name, text, valid
    return recover_name(raw), raw, False


def recover_name(raw: str) -> str:
    """The `name` of a call that could not be decoded, read with a regex ("" when there is none)."""
    match = _NAME_RE.search(raw)
    if match is None:
        return ""
    if match.group(2) == "'":
        return match.group(3)
    try:
        name = json.loads('"' + match.group(3) + '"')
    except ValueError:
        return match.group(3)
    return name if isinstance(name, str) else ""


def _values_to_calls(values: list[Any], text: str) -> list[Call]:
    calls: list[Call] = []
    for value in values:
        if isinstance(value, list) and value:
            calls += [call_from(item, json.dumps(item, ensure_ascii=False)) for item in value]
        elif len(values) == 1:
            calls.append(call_from(value, text))
        else:
            calls.append(call_from(value, json.dumps(value, ensure_ascii=False)))
    return calls


def block_calls(raw: str) -> list[Call]:
    """The calls in the text of one `<tool_call>` block (see `parse_tool_call_block`), with validity."""
    text = raw.strip()
    if not text:
        return []
    fence = _FENCE_RE.match(text)
    if fence is not None:
        text = fence.group(1).strip()
    try:
        value = json.loads(text)
    except ValueError:
        pass
    else:
        return _values_to_calls([value], text)
    values: list[Any] = []
    pos, end = 0, len(text)
    while pos < end:
        try:
            value, stop = _DECODER.raw_decode(text, pos)
        except ValueError:
            break
        values.append(value)
        pos = _WS.match(text, stop).end()  # type: ignore[union-attr]  # `\s*` always matches
        if pos < end and text[pos] == ",":  # `{...}, {...}`
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # `\s*` always matches
    else:
        return [call_from(v, json.dumps(v, ensure_ascii=False)) for v in values]
    try:  # strict parsing refused it: repair what has one meaning, never a value cut mid-way
        values = loads_lenient(text)
    except ValueError:
        return [(recover_name(text), text, False)]
    return _values_to_calls(values, text)


def parse_tool_call_block(raw: str) -> list[tuple[str, str]]:
    """The (name, arguments) calls in the text of one `<tool_call>` block.

    Accepts one JSON object, a JSON list of objects, several objects one per line or concatenated, a
    ```json fence around them, and almost-JSON with one meaning (see `_lenient_json`). Anything else becomes
    one call ("" or the recoverable name, the raw text), so a bad block is reported, never lost. An empty
    block is no call.
    """
    return [(name, args) for name, args, _ in block_calls(raw)]


def function_tag_calls(raw: str, quoted: bool) -> list[Call]:
    """The call in `<function=NAME>{args}</function>` or `<function name="NAME">{args}</function>`.

    `raw` is everything after the opening `<function=` / `<function name=`: `NAME>` then the arguments, as
    a JSON object or as Qwen3-Coder's `<parameter=KEY>value</parameter>` lines (values kept as strings).
    """
    head, sep, body = raw.partition(">")
    name = head.strip()
    if quoted:
        name = name.strip("\"'")
    if not sep or not name or any(c.isspace() for c in name):
        return [(name if sep else "", raw, False)]
    body = body.strip()
    if not body:
        return [(name, "{}", True)]
    if body.startswith("<parameter="):
        params = {key: value for key, value in _PARAM_RE.findall(body)}
        if params and not _PARAM_RE.sub("", body).strip():
            return [(name, json.dumps(params, ensure_ascii=False), True)]
        return [(name, body, False)]
    text, valid = _arguments(body)
    return [(name, text, valid)]
