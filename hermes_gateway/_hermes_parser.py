"""The incremental Hermes text parser: reply text → content, reasoning and complete tool calls.

Hermes models (and models trained on the same format: Qwen2.5/3, QwQ, DeepHermes) write reasoning and tool
calls as text: `<think>...</think>` and `<tool_call>{"name": ..., "arguments": ...}</tool_call>` blocks.
Providers without a parser upstream leave that text in `content`. One `HermesTextParser` per reply turns it
into what it means, chunk by chunk, with no I/O: the stream pipeline feeds each content fragment and calls
`finish()` once at the end; a non-streamed reply is one `feed()` and a `finish()`.

Shapes understood (tests/hermes/corpus/ cites a peer test or bug report for each):
- `<tool_call>` / `<function_call>` blocks, several per reply or several objects per block, unclosed at the
  end, or with the opening tag lost (`</think>{...}</tool_call>`, or a bare `{"name", "arguments"}` object);
- `<function=NAME>{args}</function>` and `<function name="NAME">{args}</function>` (llama.cpp, Qwen3-Coder);
- `<tools>...</tools>` used in place of `<tool_call>` (models echo the tag of the system prompt): a call
  only if its text is a valid call, else it stays text;
- a call object in a ```json fence, only when tools were offered and it names one of them (prose quoting
  JSON stays prose); the fence goes with the call, and so does a fence around a `<tool_call>` block;
- a call written inside `<think>`: a valid one is a call, the reasoning around it stays reasoning, and text
  in the block that is not a valid call stays reasoning (no invented calls);
- tag text inside JSON strings (`"cmd": "echo </tool_call>"`) never ends a block: boundaries are looked for
  outside JSON strings. A block whose quotes never balance is re-read at the end without that rule;
- almost-JSON in a block (`_lenient_json`), never completing a value cut mid-way.

`starts_in_reasoning`: the chat template opened `<think>` itself (QwQ, R1 distills, Qwen3 thinking, Hermes 4
with thinking forced on), so the reply starts inside reasoning and only `</think>` comes. Without it, a stray
`</think>` after text cannot take back what already streamed as content: the tag becomes a paragraph break
(`\\n\\n`) so the answer does not run into the reasoning, and `stray_think_close` is set so the caller can
tell the user to pass `starts_in_reasoning=True`.

How it stays cheap and split-proof:
- A small state machine. Only a possible tag start at the end of a chunk is held back.
- A chunk with no `<` (nor "`" when fences are looked for) in plain content is returned as is, so plain
  streams pay almost nothing; `feed_plain()` is that check alone.
- Each character is looked at a bounded number of times and block text is collected in a list.
- Every decision depends only on the text, never on where the chunks were split (property tests).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._hermes_calls import Call, block_calls, function_tag_calls, parse_tool_call_block
from ._hermes_shapes import (
    BARE,
    BARE_AFTER,
    BLOCK,
    CONTENT,
    FENCE,
    FENCE_BODY,
    FENCE_HEAD,
    OPENERS,
    THINK,
    ShapeReader,
    bare_call,
    match_tag,
    skip_ws,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from ._types import ToolCallDelta

__all__ = ["HermesTextParser", "ParsedText", "parse_tool_call_block"]

_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
_FUNC_EQ = "<function="
_FUNC_NAME = "<function name="
_WEAK = ("<tools>",)
"""Openers whose text is a call only when it parses as one; anything else stays text."""
_CLOSERS = ("</tool_call>", "</function_call>", "</function>", "</tools>")
_BLOCK_TAGS = _CLOSERS + OPENERS  # an opener inside an open block closes it and starts the next
_BLOCK_TAGSTHINK = (*_BLOCK_TAGS, _THINK_CLOSE)

_TRIGGER = re.compile(r"[<`]")
_BLOCK_SPECIAL = re.compile(r"""[<"'\\{}\[\]]""")
_LT = re.compile("<")


def _default_id(index: int) -> str:
    return "call_" + uuid.uuid4().hex[:24]


@dataclass(slots=True)
class ParsedText:
    """What one `feed()` / `finish()` added: content, reasoning, and tool calls completed by it."""

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallDelta] = field(default_factory=list)
    """Each a COMPLETE call: index in order of appearance in the reply, id, name, arguments as JSON text."""


class HermesTextParser(ShapeReader):
    """Incremental, pure parser of one reply's text. `feed()` each fragment, then `finish()` once.

    Args:
        tool_calls: parse tool-call blocks and bare call objects (the request had tools).
        reasoning: move `<think>...</think>` text to `reasoning`.
        id_factory: makes the id of the call with the given index; default `"call_" + uuid4 hex[:24]`.
        starts_in_reasoning: the chat template opened `<think>` in the prompt, so the reply starts inside
            reasoning and only a closing `</think>` comes (see the module docstring for what happens
            without it).
        tool_names: the names of the tools offered. A call object in a ```json fence is a call only when
            it names one of them; None (or empty) turns fence parsing off.
    """

    __slots__ = ()

    def __init__(
        self,
        *,
        tool_calls: bool = True,
        reasoning: bool = True,
        id_factory: Callable[[int], str] | None = None,
        starts_in_reasoning: bool = False,
        tool_names: Collection[str] | None = None,
    ) -> None:
        self._tools = tool_calls
        self._reasoning = reasoning
        self._id_factory = id_factory if id_factory is not None else _default_id
        self._names = frozenset(tool_names or ())
        self._fence = bool(tool_calls and self._names)
        tags: tuple[str, ...] = (_THINK_OPEN, _THINK_CLOSE) if reasoning else ()
        if tool_calls:
            tags += OPENERS + _CLOSERS
        self._content_tags = tags
        self._think_tags = (_THINK_CLOSE, _THINK_OPEN) + ((OPENERS + _CLOSERS) if tool_calls else ())
        self._state = THINK if (reasoning and starts_in_reasoning) else CONTENT
        self._think_start = self._state == THINK
        self._seg = True  # at a segment start: only whitespace since the reply start or the last tag/call
        self._keep_ws = True  # that whitespace is content if text follows (at the reply start only)
        self._held_ws: list[str] = []
        self._pending = ""  # a possible tag start held back from the end of the last chunk
        self._parts: list[str] = []  # the text of the open block / fence, or of the bare object being scanned
        self._bare_ws: list[str] = []  # whitespace after a complete bare object, before we know what it is
        self._depth = 0
        self._in_str = False
        self._esc = False
        self._need_key = False
        self._quote = ""  # in a block: the quote character of the string being read, or ""
        self._no_str = False  # re-reading a block whose JSON strings never closed: quotes are plain text
        self._open_tag = ""
        self._block_think = False
        self._block_tags: tuple[str, ...] = _BLOCK_TAGS
        self._fence_head = ""  # the "```json\n" of a fence being read, or of one around a tag block
        self._fence_wrap = False  # a fence was dropped in front of a block: drop its closing ``` too
        self._n_calls = 0
        self._out_c: list[str] = []
        self._out_r: list[str] = []
        self._out_t: list[ToolCallDelta] = []
        self.stray_think_close = False
        """A `</think>` came with no `<think>` before it and text before it had streamed as content."""

    # -- public ---------------------------------------------------------------------------------------------

    def feed(self, text: str) -> ParsedText:
        """Parse the next fragment; returns what can be told already (a possible partial tag is held back)."""
        if not text:
            return ParsedText()
        if not self._pending and "<" not in text:
            state = self._state
            if state == CONTENT:
                if not self._seg and not (self._fence and "`" in text):
                    return ParsedText(content=text)
            elif state == THINK and not self._think_start:
                return ParsedText(reasoning=text)
        buf = self._pending + text if self._pending else text
        self._pending = ""
        self._run(buf, final=False)
        return self._take()

    def feed_plain(self, text: str) -> ParsedText | None:
        """`feed()` for the hot path: None means "all of `text` is content, as is" (no object built).

        That is the answer for every chunk of plain prose once the reply is under way: content state, past
        the segment start (where a bare `{` could begin a call), nothing held back, and no `<` (nor "`"
        when fences are looked for) in the chunk. Anything else is `feed(text)`.
        """
        if (
            self._state == CONTENT
            and not self._seg
            and not self._pending
            and "<" not in text
            and not (self._fence and "`" in text)
        ):
            return None
        return self.feed(text)

    def finish(self) -> ParsedText:
        """End of the reply: flush what was held back and complete an unclosed final block."""
        buf, self._pending = self._pending, ""
        if buf:
            self._run(buf, final=True)
        while True:
            state = self._state
            if state in (BLOCK, FENCE_BODY) and self._in_str and not self._no_str:
                # its quotes never balanced: a tag inside "a string" was a real tag after all
                text = "".join(self._parts)
                self._parts = []
                self._in_str, self._depth, self._esc, self._no_str, self._quote = False, 0, False, True, ""
                self._run(text, final=True)
            elif state == BLOCK:
                self._close_block("")
            elif state == FENCE_HEAD:
                self._release_fence("".join(self._parts), final=True)
            elif state == FENCE_BODY:
                self._close_fence("")
            elif state == BARE:
                call = bare_call("".join(self._parts))  # its final `}` never came
                if call is None:
                    self._bare_to_content()
                else:
                    self._parts = []
                    self._emit(*call)
                    self._to_segment_start()
            elif state == BARE_AFTER:
                self._decide_bare(closed=False)
                if self._state == CONTENT and not self._seg:  # it was content: its trailing whitespace too
                    self._out_c.extend(self._bare_ws)
            else:
                break
        if self._state == CONTENT and self._seg and self._keep_ws and self._held_ws:
            self._out_c.extend(self._held_ws)
        self._held_ws, self._bare_ws, self._parts = [], [], []
        self._state = CONTENT
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
            if state == CONTENT:
                pos = self._content(buf, pos, final)
            elif state == THINK:
                pos = self._think(buf, pos, final)
            elif state == BLOCK:
                pos = self._block(buf, pos, final)
            elif state == BARE:
                pos = self._bare_scan(buf, pos)
            elif state == BARE_AFTER:
                pos = self._bare_after(buf, pos, final)
            elif state == FENCE_HEAD:
                pos = self._fence_head_scan(buf, pos, final)
            else:
                pos = self._fence_body(buf, pos, final)

    def _content(self, buf: str, pos: int, final: bool) -> int:
        n = len(buf)
        if self._seg:
            start = pos
            pos = skip_ws(buf, pos)
            if pos > start and self._keep_ws:
                self._held_ws.append(buf[start:pos])
            if pos == n:
                return n
            char = buf[pos]
            if char == "`" and self._fence_wrap:  # the closing fence of a fence around a lifted block
                if buf.startswith(FENCE, pos):
                    self._fence_wrap = False
                    return pos + 3
                if FENCE.startswith(buf[pos:]) and self._hold(buf, pos, final):
                    return n
            if char == "{" and self._tools:
                self._state = BARE
                self._parts = ["{"]
                self._depth, self._in_str, self._esc, self._need_key = 1, False, False, True
                return pos + 1
            if char != "<" and not (char == "`" and self._fence):
                self._leave_segment()
        if self._fence:
            found = _TRIGGER.search(buf, pos)
            i = found.start() if found is not None else -1
        else:
            i = buf.find("<", pos)
        if i < 0:
            self._out_c.append(buf[pos:])
            return n
        if i > pos:
            self._out_c.append(buf[pos:i])
        if buf[i] == "`":
            return self._backtick(buf, i, final)
        tag, partial = match_tag(buf, i, self._content_tags)
        if tag is None:
            if partial and self._hold(buf, i, final):
                return n
            self._leave_segment()
            self._out_c.append("<")
            return i + 1
        if tag == _THINK_OPEN:
            self._held_ws = []
            self._state = THINK
            self._think_start = True
        elif tag == _THINK_CLOSE:  # stray: the reasoning was opened by the template, or the tag was lost
            if not self._seg:  # text before it already streamed as content: keep the answer apart from it
                self.stray_think_close = True
                self._out_c.append("\n\n")
            self._to_segment_start()
        elif tag in OPENERS:
            self._held_ws = []
            self._open_block(tag, think=False)
        # a stray closer (`...</tool_call>` with no opener) is dropped
        return i + len(tag)

    def _think(self, buf: str, pos: int, final: bool) -> int:
        n = len(buf)
        if self._think_start:
            pos = skip_ws(buf, pos)
            if pos == n:
                return n
            self._think_start = False
        i = buf.find("<", pos)
        if i < 0:
            self._out_r.append(buf[pos:])
            return n
        if i > pos:
            self._out_r.append(buf[pos:i])
        tag, partial = match_tag(buf, i, self._think_tags)
        if tag is None:
            if partial and self._hold(buf, i, final):
                return n
            self._out_r.append("<")
            return i + 1
        if tag == _THINK_CLOSE:
            self._to_segment_start()
        elif tag == _THINK_OPEN:  # a second `<think>` inside reasoning is dropped, not nested
            self._think_start = True
        elif tag in OPENERS:  # a call written while thinking
            self._open_block(tag, think=True)
        # a stray closer inside reasoning is dropped
        return i + len(tag)

    # -- tool-call blocks -----------------------------------------------------------------------------------

    def _open_block(self, tag: str, *, think: bool) -> None:
        self._state = BLOCK
        self._parts = []
        self._open_tag = tag
        self._block_think = think
        self._block_tags = _BLOCK_TAGSTHINK if think else _BLOCK_TAGS
        self._depth, self._in_str, self._esc, self._no_str, self._quote = 0, False, False, False, ""

    def _block(self, buf: str, pos: int, final: bool) -> int:
        """Collect block text up to a tag found outside JSON strings (string state carried across chunks)."""
        n = len(buf)
        start = pos
        if self._esc:  # the previous chunk ended on a backslash inside a string
            self._esc = False
            pos += 1
        skip = -1
        quote, depth = self._quote, self._depth  # quote: the open string's quote character, or ""
        for match in (_LT if self._no_str else _BLOCK_SPECIAL).finditer(buf, pos):
            k = match.start()
            if k == skip:
                continue
            char = buf[k]
            if quote:
                if char == quote:
                    quote = ""
                elif char == "\\":
                    if k + 1 < n:
                        skip = k + 1
                    else:
                        self._esc = True
            elif char == "<":
                tag, partial = match_tag(buf, k, self._block_tags)
                if tag is None:
                    if partial:  # held back; or, at the end of the reply, a truncated tag: not call text
                        self._parts.append(buf[start:k])
                        self._quote, self._in_str, self._depth = quote, bool(quote), depth
                        self._hold(buf, k, final)
                        return n
                    continue
                self._parts.append(buf[start:k])
                self._quote, self._in_str, self._depth = "", False, 0
                self._end_block(tag)
                return k + len(tag)
            elif char in "\"'":
                # Strings count only inside a value (`<function name="f">` has quotes before it); `'` opens
                # one only outside a "..." string, which valid JSON never has: a Python-style dict's string.
                if depth > 0:
                    quote = char
            elif char in "{[":
                depth += 1
            elif char in "}]" and depth > 0:
                depth -= 1
        self._quote, self._in_str, self._depth = quote, bool(quote), depth
        self._parts.append(buf[start:])
        return n

    def _end_block(self, tag: str) -> None:
        think = self._block_think
        if tag in _CLOSERS:
            self._close_block(tag)
        elif tag == _THINK_CLOSE:
            self._close_block("")
            self._to_segment_start()
        else:  # an opener inside an open block: the previous block lost its closer
            self._close_block("")
            self._open_block(tag, think=think)

    def _close_block(self, closer: str) -> None:
        raw = "".join(self._parts)
        self._parts = []
        self._in_str, self._depth, self._esc, self._no_str, self._quote = False, 0, False, False, ""
        opener, think = self._open_tag, self._block_think
        calls: list[Call]
        if opener in (_FUNC_EQ, _FUNC_NAME):
            calls = function_tag_calls(raw, quoted=opener == _FUNC_NAME)
        else:
            calls = block_calls(raw)
        if (think or opener in _WEAK) and not (calls and all(valid for _, _, valid in calls)):
            text = opener + raw + closer  # not a call: it stays what it was written as
            if think:
                self._out_r.append(text)
                self._state, self._think_start = THINK, False
            else:
                if self._fence_wrap:
                    text = self._fence_head + text
                self._leave_segment()
                self._out_c.append(text)
                self._state = CONTENT
            return
        for name, arguments, _ in calls:
            self._emit(name, arguments)
        if think:
            self._state, self._think_start = THINK, False
        else:
            self._to_segment_start()
