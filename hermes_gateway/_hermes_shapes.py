"""The less common reply shapes of `HermesTextParser`: bare call objects and ```json fences.

A base class of the parser, split out to keep each module small: these methods are steps of the same state
machine (they read and set its state; see `_hermes_parser` for the states and the rules they keep) and share
its small helpers (`_hold`, `_emit`, segment starts), which live here.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ._hermes_calls import block_calls
from ._lenient_json import loads_lenient
from ._types import ToolCallDelta

if TYPE_CHECKING:
    from collections.abc import Callable

CONTENT, THINK, BLOCK, BARE, BARE_AFTER, FENCE_HEAD, FENCE_BODY = range(7)
OPENERS = ("<tool_call>", "<function_call>", "<function=", "<function name=", "<tools>")
FENCE = "```"
_FENCE_LANGS = frozenset({"", "json", "json5", "xml"})
_BARE_CLOSERS = ("</tool_call>", "</function_call>")

_WS = re.compile(r"\s*")
_BARE_SPECIAL = re.compile(r'[{}"\\]')
_FENCE_SPECIAL = re.compile(r'[`"\\]')
_BACKTICK = re.compile("`")
_FENCE_LANG = re.compile(r"[A-Za-z0-9_+-]*[ \t]*")


def skip_ws(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match is not None else pos


def match_tag(buf: str, i: int, tags: tuple[str, ...]) -> tuple[str | None, bool]:
    """The tag starting at `buf[i]` (a `<`), or (None, whether the rest of `buf` could still become one)."""
    rest = len(buf) - i
    partial = False
    for tag in tags:
        if buf.startswith(tag, i):
            return tag, False
        if rest < len(tag) and tag.startswith(buf[i:]):
            partial = True
    return None, partial


def bare_call(text: str) -> tuple[str, str] | None:
    """A bare object is a call only if it is exactly {name, arguments|parameters} with a string name."""
    try:
        value = json.loads(text)
    except ValueError:
        try:  # almost-JSON with one meaning, or a final `}` missing at the end of the reply
            values = loads_lenient(text)
        except ValueError:
            return None
        value = values[0] if len(values) == 1 else None
    if not isinstance(value, dict) or len(value) != 2 or not isinstance(value.get("name"), str):
        return None
    if not value["name"] or not ("arguments" in value or "parameters" in value):
        return None
    args = value.get("arguments", value.get("parameters"))
    if not isinstance(args, (dict, str)):
        return None
    name, arguments, valid = block_calls(text)[0]
    return (name, arguments) if valid else None


class ShapeReader:
    """Bare objects, fences and the shared helpers; the state lives in `HermesTextParser`'s slots."""

    __slots__ = (
        "_bare_ws",
        "_block_tags",
        "_block_think",
        "_content_tags",
        "_depth",
        "_esc",
        "_fence",
        "_fence_head",
        "_fence_wrap",
        "_held_ws",
        "_id_factory",
        "_in_str",
        "_keep_ws",
        "_n_calls",
        "_names",
        "_need_key",
        "_no_str",
        "_open_tag",
        "_out_c",
        "_out_r",
        "_out_t",
        "_parts",
        "_pending",
        "_quote",
        "_reasoning",
        "_seg",
        "_state",
        "_think_start",
        "_think_tags",
        "_tools",
        "stray_think_close",
    )

    _bare_ws: list[str]
    _depth: int
    _esc: bool
    _fence_head: str
    _fence_wrap: bool
    _held_ws: list[str]
    _id_factory: Callable[[int], str]
    _in_str: bool
    _keep_ws: bool
    _n_calls: int
    _names: frozenset[str]
    _need_key: bool
    _no_str: bool
    _out_c: list[str]
    _out_r: list[str]
    _out_t: list[ToolCallDelta]
    _parts: list[str]
    _pending: str
    _seg: bool
    _state: int

    def _run(self, buf: str, *, final: bool) -> None:
        raise NotImplementedError  # the parser's main loop

    def _hold(self, buf: str, i: int, final: bool) -> bool:
        """Hold back `buf[i:]` (a possible partial tag) unless the reply has ended."""
        if final:
            return False
        self._pending = buf[i:]
        return True

    def _to_segment_start(self) -> None:
        self._state = CONTENT
        self._seg = True
        self._keep_ws = False
        self._held_ws = []

    def _leave_segment(self) -> None:
        self._fence_wrap = False
        if self._seg:
            self._seg = False
            if self._held_ws:
                self._out_c.extend(self._held_ws)
                self._held_ws = []

    def _emit(self, name: str, arguments: str) -> None:
        index = self._n_calls
        self._n_calls += 1
        self._out_t.append(
            ToolCallDelta(index=index, id=self._id_factory(index), name=name, arguments=arguments)
        )

    # -- ```json fences (only with tool_names) --------------------------------------------------------------

    def _backtick(self, buf: str, i: int, final: bool) -> int:
        if buf.startswith(FENCE, i):
            self._state = FENCE_HEAD
            self._parts = []
            return i  # the head scan reads the fence marker itself
        if len(buf) - i < 3 and FENCE.startswith(buf[i:]) and self._hold(buf, i, final):
            return len(buf)
        self._leave_segment()
        self._out_c.append("`")
        return i + 1

    def _fence_head_scan(self, buf: str, pos: int, final: bool) -> int:
        """Read "```lang\\n" and the first character after it: a call object, a call tag, or prose."""
        n = len(buf)
        self._parts.append(buf[pos:])
        head = "".join(self._parts)
        lang_end = _FENCE_LANG.match(head, 3).end()  # type: ignore[union-attr]  # matches the empty string
        if lang_end < len(head) and head[3:lang_end].strip().lower() in _FENCE_LANGS:
            first = skip_ws(head, lang_end)
            if first < len(head):
                char = head[first]
                if char in "{[":
                    self._fence_head = head[:first]
                    self._state = FENCE_BODY
                    self._parts = []
                    self._in_str, self._esc, self._no_str = False, False, False
                    self._run(head[first:], final=final)
                    return n
                if char != "<":
                    self._release_fence(head, final=final)
                    return n
                tag, partial = match_tag(head, first, OPENERS)
                if tag is not None:
                    self._fence_head = head[:first]
                    self._fence_wrap = True
                    self._state = CONTENT
                    self._parts = []
                    self._run(head[first:], final=final)
                    return n
                if not partial:
                    self._release_fence(head, final=final)
                    return n
        elif lang_end < len(head):
            self._release_fence(head, final=final)
            return n
        if final:
            self._release_fence(head, final=True)
            return n
        self._parts = [head]
        return n

    def _release_fence(self, head: str, *, final: bool) -> None:
        """Not a call fence: the marker is content, and the text after it is read again as content."""
        self._parts = []
        self._state = CONTENT
        self._leave_segment()
        self._out_c.append(FENCE)
        self._run(head[3:], final=final)

    def _fence_body(self, buf: str, pos: int, final: bool) -> int:
        """Collect the fenced JSON up to a closing ``` found outside JSON strings."""
        n = len(buf)
        start = pos
        if self._esc:
            self._esc = False
            pos += 1
        skip = -1
        in_str = self._in_str
        for match in (_BACKTICK if self._no_str else _FENCE_SPECIAL).finditer(buf, pos):
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
            elif char == "`":
                if buf.startswith(FENCE, k):
                    self._parts.append(buf[start:k])
                    self._in_str = False
                    self._close_fence(FENCE)
                    return k + 3
                if n - k < 3 and FENCE.startswith(buf[k:]) and self._hold(buf, k, final):
                    self._parts.append(buf[start:k])
                    self._in_str = in_str
                    return n
        self._in_str = in_str
        self._parts.append(buf[start:])
        return n

    def _close_fence(self, closer: str) -> None:
        body = "".join(self._parts)
        self._parts = []
        self._in_str, self._esc, self._no_str = False, False, False
        calls = block_calls(body)
        if calls and all(valid and name in self._names for name, _, valid in calls):
            for name, arguments, _ in calls:
                self._emit(name, arguments)
            self._to_segment_start()
            return
        self._leave_segment()  # JSON quoted in prose, or a call to no offered tool: it stays content
        self._out_c.append(self._fence_head + body + closer)
        self._state = CONTENT

    # -- bare JSON objects at a segment start ---------------------------------------------------------------

    def _bare_scan(self, buf: str, pos: int) -> int:
        """Find the end of the object (string-aware brace count), carrying the scan state across chunks."""
        n = len(buf)
        if self._need_key:  # `{` must be followed by `"` or `}` to be JSON; else it is just text
            key = skip_ws(buf, pos)
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
                    self._state = BARE_AFTER
                    self._bare_ws = []
                    return k + 1
        self._in_str, self._depth = in_str, depth
        self._parts.append(buf[start:])
        return n

    def _bare_to_content(self) -> None:
        self._out_c.extend(self._held_ws)
        self._out_c.extend(self._parts)
        self._held_ws, self._parts = [], []
        self._state = CONTENT
        self._seg = False

    def _bare_after(self, buf: str, pos: int, final: bool) -> int:
        """A complete object: a call if a closing tag follows or if exactly {name, arguments}; else text."""
        n = len(buf)
        start = pos
        pos = skip_ws(buf, pos)
        if pos > start:
            self._bare_ws.append(buf[start:pos])
        if pos == n:
            return n
        if buf[pos] == "<":
            tag, partial = match_tag(buf, pos, _BARE_CLOSERS)
            if partial and self._hold(buf, pos, final):
                return n
            if tag is not None or partial:  # a truncated closer at the very end counts as the closer
                self._decide_bare(closed=True)
                return n if tag is None else pos + len(tag)
        self._decide_bare(closed=False)
        if self._state == CONTENT and not self._seg:
            self._out_c.extend(self._bare_ws)
        self._bare_ws = []
        return pos

    def _decide_bare(self, *, closed: bool) -> None:
        text = "".join(self._parts)
        if closed:  # `{...}</tool_call>`: the opening tag was lost, so it is a call whatever its shape
            for name, arguments, _ in block_calls(text):
                self._emit(name, arguments)
        else:
            call = bare_call(text)
            if call is None:
                self._bare_to_content()
                return
            self._emit(*call)
        self._parts = []
        self._to_segment_start()
