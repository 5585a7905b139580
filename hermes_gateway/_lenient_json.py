"""A small tolerant JSON reader for tool calls that fail strict parsing, and only for them.

Models trained on the Hermes format write almost-JSON often enough to matter: Python-style dicts (single
quotes, `True` / `False` / `None`, the form Nous's own Hermes-Function-Calling README shows), literal newlines
or tabs inside strings (an argument that is code), a trailing comma, or a call whose final `}` / `}}` never
came before the stream ended. Each of these has one meaning, so it is read as that meaning.

What is never repaired: a value cut off mid-way. An unclosed string, a number or literal at the very end of
the text, a key with no value, or a text that ends right after `,` or `:` means the model was stopped (for
example by `max_tokens`) in the middle of the call. Running `write_file` with half its content would be
worse than not running it, so such text raises `ValueError` and the call stays invalid.

Why not a library: json-repair (PyPI) repairs everything, including a value cut mid-way (it closes the open
string), so it would need the same truncation checks on top; this reader is ~150 lines, has no dependency,
and is only ever called on the rare text strict `json.loads` refused (never on the streaming hot path).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["loads_lenient"]

_WS = re.compile(r"\s*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LITERALS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_CLOSERS = "}]"
_STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}


class _Truncated(ValueError):
    """The text ends in the middle of a value: never completed."""


class _Reader:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def ws(self) -> None:
        match = _WS.match(self.text, self.pos)
        if match is not None:
            self.pos = match.end()

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def fail(self, what: str) -> ValueError:
        return ValueError(f"{what} at position {self.pos}")

    def value(self) -> Any:
        self.ws()
        if self.at_end():
            raise _Truncated("the text ends where a value should be")
        char = self.text[self.pos]
        if char == "{":
            return self.obj()
        if char == "[":
            return self.array()
        if char in "\"'":
            return self.string()
        match = _NUMBER.match(self.text, self.pos)
        if match is not None:
            if match.end() >= len(self.text):
                raise _Truncated("the text ends in a number")  # `12` may have been `1234`
            self.pos = match.end()
            text = match.group()
            return float(text) if any(c in text for c in ".eE") else int(text)
        ident = _IDENT.match(self.text, self.pos)
        if ident is not None and ident.group() in _LITERALS:
            if ident.end() >= len(self.text):
                raise _Truncated("the text ends in a literal")
            self.pos = ident.end()
            return _LITERALS[ident.group()]
        if ident is not None and ident.end() >= len(self.text):
            raise _Truncated("the text ends in a word")  # `tr` of `true`
        raise self.fail("not a JSON value")

    def string(self) -> str:
        text, quote = self.text, self.text[self.pos]
        out: list[str] = []
        pos, end = self.pos + 1, len(text)
        find = _STRING_STOP[quote].search
        while True:
            found = find(text, pos)
            stop = found.start() if found is not None else end
            out.append(text[pos:stop])  # literal newlines and tabs kept: their meaning is plain
            if stop >= end:
                raise _Truncated("the text ends inside a string")
            if text[stop] == quote:
                self.pos = stop + 1
                return "".join(out)
            if stop + 1 >= end:
                raise _Truncated("the text ends inside an escape")
            esc = text[stop + 1]
            if esc == "u":
                code, pos = self.unicode_escape(stop)
                out.append(chr(code))
            else:
                out.append(_ESCAPES.get(esc, "\\" + esc))
                pos = stop + 2

    def unicode_escape(self, start: int) -> tuple[int, int]:
        """The code point of the `\\uXXXX` escape at `start` (a surrogate pair read as one), and the end."""
        text = self.text
        digits = text[start + 2 : start + 6]
        if len(digits) < 4:
            raise _Truncated("the text ends inside a \\u escape")
        try:
            code = int(digits, 16)
        except ValueError:
            raise self.fail("bad \\u escape") from None
        end = start + 6
        if 0xD800 <= code < 0xDC00 and text.startswith("\\u", end):
            try:
                low = int(text[end + 2 : end + 6], 16)
            except ValueError:
                return code, end
            if 0xDC00 <= low < 0xE000:
                return 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), end + 6
        return code, end

    def key(self) -> str:
        char = self.text[self.pos]
        if char in "\"'":
            return self.string()
        ident = _IDENT.match(self.text, self.pos)
        if ident is None:
            raise self.fail("not an object key")
        self.pos = ident.end()
        return ident.group()

    def obj(self) -> dict[str, Any]:
        self.pos += 1
        out: dict[str, Any] = {}
        while True:
            self.ws()
            if self.at_end():
                if out:
                    return out  # the final `}` is missing, every value before it is complete
                raise _Truncated("the text ends right after `{`")
            if self.text[self.pos] == "}":
                self.pos += 1
                return out
            key = self.key()
            self.ws()
            if self.at_end():
                raise _Truncated("the text ends after a key")
            if self.text[self.pos] != ":":
                raise self.fail("expected `:`")
            self.pos += 1
            out[key] = self.value()
            if self.separator("}"):
                return out

    def separator(self, closer: str) -> bool:
        """After an item: True when the text ends there (a container left open at the very end, after a
        complete value, is closed); else a `,` is consumed (never as the last thing) or `closer` is next."""
        self.ws()
        if self.at_end():
            return True
        char = self.text[self.pos]
        if char == ",":
            self.pos += 1
            self.ws()
            if self.at_end():
                raise _Truncated("the text ends after `,`")
        elif char != closer:
            raise self.fail(f"expected `,` or `{closer}`")
        return False

    def array(self) -> list[Any]:
        self.pos += 1
        out: list[Any] = []
        while True:
            self.ws()
            if self.at_end():
                if out:
                    return out
                raise _Truncated("the text ends right after `[`")
            if self.text[self.pos] == "]":
                self.pos += 1
                return out
            out.append(self.value())
            if self.separator("]"):
                return out


def loads_lenient(text: str) -> list[Any]:
    """The values in `text` (one, or several separated by whitespace or commas), read tolerantly.

    Raises ValueError when the text is not almost-JSON, or when a value in it was cut off mid-way. Stray
    closing brackets after a complete value (`{...}}}`) are dropped: their meaning is plain.
    """
    reader = _Reader(text)
    values: list[Any] = []
    reader.ws()
    while not reader.at_end():
        if reader.text[reader.pos] not in "{[":
            raise reader.fail("not an object or a list")
        values.append(reader.value())
        reader.ws()
        while not reader.at_end() and reader.text[reader.pos] in _CLOSERS + ",":
            reader.pos += 1
            reader.ws()
    if not values:
        raise ValueError("no JSON value")
    return values
