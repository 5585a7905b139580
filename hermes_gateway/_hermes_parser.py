"""The incremental Hermes text parser: reply text → content, reasoning and complete tool calls.

Hermes models write their reasoning and tool calls as text: `<think>...</think>` and
`<tool_call>{"name": ..., "arguments": ...}</tool_call>` blocks. Providers without a parser upstream leave
that text in `content`, and servers that strip special tokens leave a bare `{"name": ..., "arguments": ...}`
object or a block whose opening tag is gone (`</think>{...}</tool_call>`). One `HermesTextParser` per reply
turns that text into what it means, chunk by chunk, with no I/O: the stream pipeline feeds each content
fragment and calls `finish()` once at the end; a non-streamed reply is one `feed()` and a `finish()`.

How it stays cheap and split-proof:
- It is a small state machine (content / reasoning / tool block / bare JSON object). Only a possible tag start
  (`<`, `<tool`, `</think` ...) at the end of a chunk is held back; everything else is emitted at once.
- A chunk with no `<` outside a block is returned as is (an `in` check), so plain streams pay almost nothing.
- Each character is looked at a bounded number of times and block text is collected in a list: linear time.
- Every decision depends only on the text, never on where the chunks were split, so the same reply gives the
  same content, reasoning and tool calls however it is split (the property tests check this).

Bare JSON is looked for only at a *segment start*: the start of the reply, or right after `</think>`, a
closed block or a bare call (after leading whitespace). Bad JSON in a block is never dropped and never raises:
it comes out as a call whose `arguments` is the raw block text, so adapters can report an invalid tool call.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._types import ToolCallDelta

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["HermesTextParser", "ParsedText", "parse_tool_call_block"]

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
_CALL_OPENERS = ("<tool_call>", "<function_call>")
_CALL_CLOSERS = ("</tool_call>", "</function_call>")

# Tags looked for in each state; a `<` that starts none of them is plain text.
_THINK_TAGS = (_THINK_CLOSE, _THINK_OPEN)  # a second `<think>` inside reasoning is dropped, not nested
_BLOCK_TAGS = _CALL_CLOSERS + _CALL_OPENERS  # an opener inside an open block closes it and starts the next
_AFTER_BARE_TAGS = _CALL_CLOSERS

_CONTENT, _THINK, _BLOCK, _BARE, _BARE_AFTER = range(5)

_WS = re.compile(r"\s*")
_BARE_SPECIAL = re.compile(r'[{}"\\]')
_NAME_RE = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_FENCE_RE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
_DECODER = json.JSONDecoder()


def _skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match is not None else pos


def _default_id(index: int) -> str:
    return "call_" + uuid.uuid4().hex[:24]


@dataclass(slots=True)
class ParsedText:
    """What one `feed()` / `finish()` added: content, reasoning, and tool calls completed by it."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    """Each a COMPLETE call: index in order of appearance in the reply, id, name, arguments as JSON text."""


def _match(buf: str, i: int, tags: tuple[str, ...]) -> tuple[str | None, bool]:
    """The tag starting at `buf[i]` (a `<`), or (None, whether the rest of `buf` could still become one)."""
    rest = len(buf) - i
    partial = False
    for tag in tags:
        if buf.startswith(tag, i):
            return tag, False
        if rest < len(tag) and tag.startswith(buf[i:]):
            partial = True
    return None, partial


def _arguments_text(args: Any) -> str:
    """Arguments as JSON text: an object dumped, a JSON string kept, a non-JSON string kept raw (invalid)."""
    if args is None:
        return "{}"
    if isinstance(args, str):
        text = args.strip()
        if not text:
            return "{}"
        try:
            json.loads(text)
        except ValueError:
            return args
        return text
    return json.dumps(args, ensure_ascii=False)


def _call_from(obj: Any, raw: str) -> tuple[str, str]:
    """(name, arguments) of one decoded call; ("" or the recoverable name, raw text) when it is not a call."""
    if isinstance(obj, dict):
        fn = obj.get("function")
        if "name" not in obj and isinstance(
            fn, dict
        ):  # OpenAI shape: {"type": "function", "function": {...}}
            obj = fn
        name = obj.get("name")
        if isinstance(name, str) and name:
            args = obj["arguments"] if "arguments" in obj else obj.get("parameters")
            return name, _arguments_text(args)
    return _recover_name(raw), raw


def _recover_name(raw: str) -> str:
    match = _NAME_RE.search(raw)
    if match is None:
        return ""
    try:
        name = json.loads('"' + match.group(1) + '"')
    except ValueError:
        return match.group(1)
    return name if isinstance(name, str) else ""


def parse_tool_call_block(raw: str) -> list[tuple[str, str]]:
    """The (name, arguments) calls in the text of one `<tool_call>` block.

    Accepts one JSON object, a JSON list of objects, several objects one per line or concatenated, and a
    ```json fence around them. Anything else becomes one call ("" or the recoverable name, the raw text), so a
    bad block is reported, never lost. An empty block is no call.
    """
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
        if isinstance(value, list) and value:
            return [_call_from(item, json.dumps(item, ensure_ascii=False)) for item in value]
        return [_call_from(value, text)]
    calls: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        try:
            value, stop = _DECODER.raw_decode(text, pos)
        except ValueError:
            return [(_recover_name(text), text)]
        calls.append(_call_from(value, text[pos:stop]))
        pos = _skip_ws(text, stop)
        if pos < end and text[pos] == ",":  # `{...}, {...}`
            pos = _skip_ws(text, pos + 1)
    return calls


def _strict_bare_call(text: str) -> tuple[str, str] | None:
    """A bare object is a call only if it is exactly {name, arguments|parameters} with a string name."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict) or len(value) != 2 or not isinstance(value.get("name"), str):
        return None
    if not value["name"] or not ("arguments" in value or "parameters" in value):
        return None
    args = value.get("arguments", value.get("parameters"))
    if not isinstance(args, (dict, str)):
        return None
    return value["name"], _arguments_text(args)


class HermesTextParser:
    """Incremental, pure parser of one reply's text. `feed()` each fragment, then `finish()` once.

    Args:
        tool_calls: parse `<tool_call>` / `<function_call>` blocks and bare call objects (request had tools).
        reasoning: move `<think>...</think>` text to `reasoning`.
        id_factory: makes the id of the call with the given index; default `"call_" + uuid4 hex[:24]`.
        starts_in_reasoning: the chat template opened `<think>` in the prompt, so the reply starts inside
            reasoning and only a closing `</think>` comes. Without it, text before a stray `</think>` has
            already streamed as content (a stream cannot take text back); the stray tag is still dropped.
    """

    __slots__ = (
        "_bare",
        "_bare_ws",
        "_content_tags",
        "_depth",
        "_esc",
        "_held_ws",
        "_id_factory",
        "_in_str",
        "_keep_ws",
        "_n_calls",
        "_need_key",
        "_out_c",
        "_out_r",
        "_out_t",
        "_parts",
        "_pending",
        "_reasoning",
        "_seg",
        "_state",
        "_think_start",
        "_tools",
    )

    def __init__(
        self,
        *,
        tool_calls: bool = True,
        reasoning: bool = True,
        id_factory: Callable[[int], str] | None = None,
        starts_in_reasoning: bool = False,
    ) -> None:
        self._tools = tool_calls
        self._reasoning = reasoning
        self._id_factory = id_factory if id_factory is not None else _default_id
        tags: tuple[str, ...] = ()
        if reasoning:
            tags += (_THINK_OPEN, _THINK_CLOSE)
        if tool_calls:
            tags += _CALL_OPENERS + _CALL_CLOSERS
        self._content_tags = tags
        self._state = _THINK if (reasoning and starts_in_reasoning) else _CONTENT
        self._think_start = self._state == _THINK
        self._seg = True  # at a segment start: only whitespace since the reply start or the last tag/call
        self._keep_ws = True  # that whitespace is content if text follows (at the reply start only)
        self._held_ws: list[str] = []
        self._pending = ""  # a possible tag start held back from the end of the last chunk
        self._parts: list[str] = []  # the text of the open block, or of the bare object being scanned
        self._bare_ws: list[str] = []  # whitespace after a complete bare object, before we know what it is
        self._depth = 0
        self._in_str = False
        self._esc = False
        self._need_key = False
        self._n_calls = 0
        self._out_c: list[str] = []
        self._out_r: list[str] = []
        self._out_t: list[ToolCallDelta] = []

    # -- public ---------------------------------------------------------------------------------------------

    def feed(self, text: str) -> ParsedText:
        """Parse the next fragment; returns what can be told already (a possible partial tag is held back)."""
        if not text:
            return ParsedText()
        if not self._pending and "<" not in text:
            state = self._state
            if state == _CONTENT and not self._seg:
                return ParsedText(content=text)
            if state == _THINK and not self._think_start:
                return ParsedText(reasoning=text)
            if state == _BLOCK:
                self._parts.append(text)
                return ParsedText()
        buf = self._pending + text if self._pending else text
        self._pending = ""
        self._run(buf, final=False)
        return self._take()

    def feed_plain(self, text: str) -> ParsedText | None:
        """`feed()` for the hot path: None means "all of `text` is content, as is" (no object built).

        That is the answer for every chunk of plain prose once the reply is under way: content state, past
        the segment start (where a bare `{` could begin a call), nothing held back, and no `<` in the chunk.
        Anything else is `feed(text)`.
        """
        if self._state == _CONTENT and not self._seg and not self._pending and "<" not in text:
            return None
        return self.feed(text)

    def finish(self) -> ParsedText:
        """End of the reply: flush what was held back and complete an unclosed final block."""
        buf, self._pending = self._pending, ""
        if buf:
            self._run(buf, final=True)
        state = self._state
        if state == _CONTENT:
            if self._seg and self._keep_ws and self._held_ws:
                self._out_c.extend(self._held_ws)
        elif state == _BLOCK:
            self._close_block()
        elif state == _BARE:
            self._bare_to_content()
        elif state == _BARE_AFTER:
            self._decide_bare(closed=False)
            if self._state == _CONTENT and not self._seg:  # it was content: its trailing whitespace too
                self._out_c.extend(self._bare_ws)
        self._held_ws, self._bare_ws, self._parts = [], [], []
        self._state = _CONTENT
        self._seg = False
        return self._take()

    # -- the state machine ----------------------------------------------------------------------------------

    def _take(self) -> ParsedText:
        out = ParsedText("".join(self._out_c), "".join(self._out_r), self._out_t)
        self._out_c, self._out_r, self._out_t = [], [], []
        return out

    def _run(self, buf: str, *, final: bool) -> None:
        pos, n = 0, len(buf)
        while pos < n:
            state = self._state
            if state == _CONTENT:
                pos = self._content(buf, pos, final)
            elif state == _THINK:
                pos = self._think(buf, pos, final)
            elif state == _BLOCK:
                pos = self._block(buf, pos, final)
            elif state == _BARE:
                pos = self._bare_scan(buf, pos)
            else:
                pos = self._bare_after(buf, pos, final)

    def _hold(self, buf: str, i: int, final: bool) -> bool:
        """Hold back `buf[i:]` (a possible partial tag) unless the reply has ended."""
        if final:
            return False
        self._pending = buf[i:]
        return True

    def _to_segment_start(self) -> None:
        self._state = _CONTENT
        self._seg = True
        self._keep_ws = False
        self._held_ws = []

    def _content(self, buf: str, pos: int, final: bool) -> int:
        n = len(buf)
        if self._seg:
            start = pos
            pos = _skip_ws(buf, pos)
            if pos > start and self._keep_ws:
                self._held_ws.append(buf[start:pos])
            if pos == n:
                return n
            char = buf[pos]
            if char == "{" and self._tools:
                self._state = _BARE
                self._parts = ["{"]
                self._depth, self._in_str, self._esc, self._need_key = 1, False, False, True
                return pos + 1
            if char != "<":
                self._leave_segment()
        i = buf.find("<", pos)
        if i < 0:
            self._out_c.append(buf[pos:])
            return n
        if i > pos:
            self._out_c.append(buf[pos:i])
        tag, partial = _match(buf, i, self._content_tags)
        if tag is None:
            if partial and self._hold(buf, i, final):
                return n
            self._leave_segment()
            self._out_c.append("<")
            return i + 1
        if tag == _THINK_OPEN:
            self._held_ws = []
            self._state = _THINK
            self._think_start = True
        elif tag == _THINK_CLOSE:  # stray: the reasoning was opened by the template or the tag was lost
            self._to_segment_start()
        elif tag in _CALL_OPENERS:
            self._held_ws = []
            self._state = _BLOCK
            self._parts = []
        # a stray closer (`...</tool_call>` with no opener) is dropped
        return i + len(tag)

    def _leave_segment(self) -> None:
        if self._seg:
            self._seg = False
            if self._held_ws:
                self._out_c.extend(self._held_ws)
                self._held_ws = []

    def _think(self, buf: str, pos: int, final: bool) -> int:
        n = len(buf)
        if self._think_start:
            pos = _skip_ws(buf, pos)
            if pos == n:
                return n
            self._think_start = False
        i = buf.find("<", pos)
        if i < 0:
            self._out_r.append(buf[pos:])
            return n
        if i > pos:
            self._out_r.append(buf[pos:i])
        tag, partial = _match(buf, i, _THINK_TAGS)
        if tag is None:
            if partial and self._hold(buf, i, final):
                return n
            self._out_r.append("<")
            return i + 1
        if tag == _THINK_CLOSE:
            self._to_segment_start()
        else:
            self._think_start = True
        return i + len(tag)

    def _block(self, buf: str, pos: int, final: bool) -> int:
        n = len(buf)
        i = buf.find("<", pos)
        if i < 0:
            self._parts.append(buf[pos:])
            return n
        if i > pos:
            self._parts.append(buf[pos:i])
        tag, partial = _match(buf, i, _BLOCK_TAGS)
        if tag is None:
            if (
                partial
            ):  # held back; or, at the end of the reply, a truncated tag that is not part of the call
                self._hold(buf, i, final)
                return n
            self._parts.append("<")
            return i + 1
        self._close_block()
        if tag in _CALL_CLOSERS:
            self._to_segment_start()
        else:
            self._parts = []  # an opener inside an open block: the previous block lost its closer
        return i + len(tag)

    def _close_block(self) -> None:
        for name, arguments in parse_tool_call_block("".join(self._parts)):
            self._emit(name, arguments)
        self._parts = []

    def _emit(self, name: str, arguments: str) -> None:
        index = self._n_calls
        self._n_calls += 1
        self._out_t.append(
            ToolCallDelta(index=index, id=self._id_factory(index), name=name, arguments=arguments)
        )

    # -- bare JSON objects at a segment start ---------------------------------------------------------------

    def _bare_scan(self, buf: str, pos: int) -> int:
        """Find the end of the object (string-aware brace count), carrying the scan state across chunks."""
        n = len(buf)
        if self._need_key:  # `{` must be followed by `"` or `}` to be JSON; else it is just text
            key = _skip_ws(buf, pos)
            if key == n:
                self._parts.append(buf[pos:])
                return n
            if buf[key] not in '"}':
                self._parts.append(buf[pos:key])
                self._bare_to_content()
                return key
            self._need_key = False
        start = pos
        if self._esc:  # the previous chunk ended on a backslash inside a string
            self._esc = False
            pos += 1
        skip = -1
        in_str, depth = self._in_str, self._depth
        for match in _BARE_SPECIAL.finditer(buf, pos):
            k = match.start()
            if k == skip:
                continue
            char = buf[k]
            if in_str:
                if char == '"':
                    in_str = False
                elif char == "\\":
                    if k + 1 < n:
                        skip = k + 1
                    else:
                        self._esc = True
            elif char == '"':
                in_str = True
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    self._parts.append(buf[start : k + 1])
                    self._in_str, self._depth = False, 0
                    self._state = _BARE_AFTER
                    self._bare_ws = []
                    return k + 1
        self._in_str, self._depth = in_str, depth
        self._parts.append(buf[start:])
        return n

    def _bare_to_content(self) -> None:
        self._out_c.extend(self._held_ws)
        self._out_c.extend(self._parts)
        self._held_ws, self._parts = [], []
        self._state = _CONTENT
        self._seg = False

    def _bare_after(self, buf: str, pos: int, final: bool) -> int:
        """A complete object: a call if a closing tag follows or if exactly {name, arguments}; else text."""
        n = len(buf)
        start = pos
        pos = _skip_ws(buf, pos)
        if pos > start:
            self._bare_ws.append(buf[start:pos])
        if pos == n:
            return n
        if buf[pos] == "<":
            tag, partial = _match(buf, pos, _AFTER_BARE_TAGS)
            if partial and self._hold(buf, pos, final):
                return n
            if tag is not None or partial:  # a truncated closer at the very end counts as the closer
                self._decide_bare(closed=True)
                return n if tag is None else pos + len(tag)
        self._decide_bare(closed=False)
        if self._state == _CONTENT and not self._seg:
            self._out_c.extend(self._bare_ws)
        self._bare_ws = []
        return pos

    def _decide_bare(self, *, closed: bool) -> None:
        text = "".join(self._parts)
        if closed:  # `{...}</tool_call>`: the opening tag was lost, so it is a call whatever its shape
            for name, arguments in parse_tool_call_block(text):
                self._emit(name, arguments)
        else:
            call = _strict_bare_call(text)
            if call is None:
                self._bare_to_content()
                return
            self._emit(*call)
        self._parts = []
        self._to_segment_start()
