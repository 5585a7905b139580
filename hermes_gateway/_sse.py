"""Server-sent events: a line state machine from bytes to events. No JSON here.

Feed it whatever byte chunks the network delivers; it splits lines on LF, CR and CRLF (a CRLF split across two
chunks included), skips comment lines (`: OPENROUTER PROCESSING` keep-alives), joins multi-line `data:` fields
with "\\n", and dispatches an event at each blank line, per the WHATWG rules. A line that spans many chunks is
kept as a list of pieces and joined once, so buffering is linear however the bytes are cut (openai-python's
older `data += line` was quadratic).

The fast path: almost every network read holds whole `data: {...}\\n\\n` events and nothing else, and
starts where the previous one ended (no line or event left open). Such a read is decoded in one call and cut
at its blank lines with `str.find`; a block that is one `data: ` line becomes its event directly, any other
block (comments, fields, multi-line data) goes through the line machine. The result is the same as feeding
the lines one by one (the tests feed the same bytes both ways).

`finish()` is called at the end of the body: it dispatches a last event that lacked its blank line, which
servers that close right after `data: [DONE]` (or after the final chunk) rely on.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event. `data` is the joined data lines, decoded as UTF-8."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental SSE decoder: `feed(bytes) -> events`, then `finish() -> events` at the end of the body."""

    __slots__ = (
        "_data",
        "_decoder",
        "_event",
        "_id",
        "_partial",
        "_pristine",
        "_retry",
        "_skip_lf",
        "_started",
    )

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        """One UTF-8 decode per network chunk (a character split between chunks is held back)."""
        self._partial: list[str] = []
        """Pieces of the current, not yet terminated line."""
        self._skip_lf = False
        """The previous chunk ended in CR: a LF starting the next chunk belongs to that line break."""
        self._started = False
        self._data: list[str] | None = None
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._pristine = False
        """The next read starts a line, with no event open, a byte order mark already looked for, no CR
        pending and no bytes held back by the UTF-8 decoder: the fast path may take it."""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next bytes of the body; returns the events they completed (often none or one)."""
        if self._pristine and chunk[-2:] == b"\n\n":
            # Ends in ASCII and the decoder holds nothing: a one-shot decode is the incremental one.
            text = chunk.decode("utf-8", "replace")
            if "\r" not in text:
                if text.find("\n") == len(text) - 2 and text[:6] == "data: " and self._event is None:
                    return [ServerSentEvent(text[6:-2], None, self._id, self._retry)]  # one event
                return self._blocks(text)
        else:
            text = self._decoder.decode(chunk)
        events = self._feed_text(text)
        self._pristine = (
            self._started
            and not self._partial
            and self._data is None
            and not self._skip_lf
            and bool(chunk)
            and chunk[-1] < 0x80
        )
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        """The general path: any decoded text, lines split on LF, CR and CRLF."""
        if not self._started:
            if not text:
                return []
            self._started = True
            if text[0] == "\ufeff":  # byte order mark
                text = text[1:]
        if self._skip_lf:
            if not text:
                return []
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if not text:
            return []
        if "\r" in text:  # normalise CRLF and CR to LF (str.splitlines would also split on \x1c, \u2028, ...)
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        tail = lines.pop()  # "" when the chunk ended with a line break
        if not lines:
            self._partial.append(tail)
            return []
        if self._partial:
            self._partial.append(lines[0])
            lines[0] = "".join(self._partial)
            self._partial = []
        if tail:
            self._partial.append(tail)
        return self._lines(lines)

    def finish(self) -> list[ServerSentEvent]:
        """End of body: process a last unterminated line and dispatch a pending event."""
        events: list[ServerSentEvent] = []
        rest = self._decoder.decode(b"", final=True)
        if rest:
            self._partial.append(rest)
        if self._partial:
            line = "".join(self._partial).replace("\r", "")
            self._partial = []
            events = self._lines([line])
        if self._data is not None:
            events.append(self._dispatch())
        return events

    def _blocks(self, text: str) -> list[ServerSentEvent]:
        """Whole events, in a pristine read that ends with a blank line and holds no CR."""
        events: list[ServerSentEvent] = []
        pos, end = 0, len(text)
        while pos < end:
            stop = text.find("\n\n", pos)
            if stop < 0:  # only the last "\n" of a "\n\n\n" run is left: one blank line
                events += self._lines([""])
                break
            if text.find("\n", pos) == stop and text.startswith("data: ", pos) and self._event is None:
                events.append(ServerSentEvent(text[pos + 6 : stop], None, self._id, self._retry))
            else:  # the line machine; the blank line that ends the block leaves no event open
                lines = text[pos:stop].split("\n")
                lines.append("")
                events += self._lines(lines)
            pos = stop + 2
        return events

    def _lines(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data is not None:
                    events.append(self._dispatch())
                else:  # a blank line with no data resets the event fields (WHATWG)
                    self._event = None
                continue
            if line.startswith("data:"):
                value = line[6:] if line[5:6] == " " else line[5:]
                if self._data is None:
                    self._data = [value]
                else:
                    self._data.append(value)
                continue
            if line[0] == ":":  # comment / keep-alive
                continue
            name, colon, raw = line.partition(":")
            value = raw[1:] if colon and raw[:1] == " " else raw
            if name == "data":  # "data" without a colon: an empty data line
                if self._data is None:
                    self._data = [value]
                else:
                    self._data.append(value)
            elif name == "event":
                self._event = value
            elif name == "id":
                if "\0" not in value:
                    self._id = value
            elif name == "retry" and value.isdigit():
                self._retry = int(value)
            # any other field name is ignored, per the spec
        return events

    def _dispatch(self) -> ServerSentEvent:
        parts = self._data or [""]
        event = ServerSentEvent(
            parts[0] if len(parts) == 1 else "\n".join(parts), self._event, self._id, self._retry
        )
        self._data = None
        self._event = None
        return event
