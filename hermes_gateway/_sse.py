"""Server-sent events: a line state machine from bytes to events. No JSON here.

Feed it whatever byte chunks the network delivers; it splits lines on LF, CR and CRLF (a CRLF split across two
chunks included), skips comment lines (`: OPENROUTER PROCESSING` keep-alives), joins multi-line `data:` fields
with "\\n", and dispatches an event at each blank line, per the WHATWG rules. A line that spans many chunks is
kept as a list of pieces and joined once, so buffering is linear however the bytes are cut (openai-python's
older `data += line` was quadratic).

`finish()` is called at the end of the body: it dispatches a last event that lacked its blank line, which
servers that close right after `data: [DONE]` (or after the final chunk) rely on.
"""

from __future__ import annotations

from dataclasses import dataclass

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class ServerSentEvent:
    """One dispatched event. `data` is the joined data lines, decoded as UTF-8."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental SSE decoder: `feed(bytes) -> events`, then `finish() -> events` at the end of the body."""

    __slots__ = ("_data", "_event", "_id", "_partial", "_retry", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._partial: list[bytes] = []
        """Pieces of the current, not yet terminated line."""
        self._skip_lf = False
        """The previous chunk ended in CR: a LF starting the next chunk belongs to that line break."""
        self._started = False
        self._data: list[bytes] | None = None
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next bytes of the body; returns the events they completed (often none or one)."""
        if not self._started:
            if not chunk:
                return []
            self._started = True
            if chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if not chunk:
            return []
        last = chunk[-1]
        lines = chunk.splitlines()  # bytes.splitlines splits on exactly LF, CR and CRLF
        if last == 13:  # CR: a LF may follow in the next chunk
            self._skip_lf = True
        tail = None if last in (10, 13) else lines.pop()
        if self._partial and lines:
            self._partial.append(lines[0])
            lines[0] = b"".join(self._partial)
            self._partial = []
        if tail is not None:
            self._partial.append(tail)
        return self._lines(lines) if lines else []

    def finish(self) -> list[ServerSentEvent]:
        """End of body: process a last unterminated line and dispatch a pending event."""
        events: list[ServerSentEvent] = []
        if self._partial:
            line = b"".join(self._partial)
            self._partial = []
            events = self._lines([line])
        if self._data is not None:
            events.append(self._dispatch())
        return events

    def _lines(self, lines: list[bytes]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            if not line:
                if self._data is not None:
                    events.append(self._dispatch())
                else:  # a blank line with no data resets the event fields (WHATWG)
                    self._event = None
                continue
            if line.startswith(b"data:"):
                value = line[6:] if line[5:6] == b" " else line[5:]
                if self._data is None:
                    self._data = [value]
                else:
                    self._data.append(value)
                continue
            if line[0] == 58:  # ":" comment / keep-alive
                continue
            name, colon, raw = line.partition(b":")
            value = raw[1:] if colon and raw[:1] == b" " else raw
            if name == b"data":  # "data" without a colon: an empty data line
                if self._data is None:
                    self._data = [value]
                else:
                    self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", errors="replace")
            elif name == b"id":
                if b"\0" not in value:
                    self._id = value.decode("utf-8", errors="replace")
            elif name == b"retry" and value.isdigit():
                self._retry = int(value)
            # any other field name is ignored, per the spec
        return events

    def _dispatch(self) -> ServerSentEvent:
        parts = self._data or [b""]
        raw = parts[0] if len(parts) == 1 else b"\n".join(parts)
        event = ServerSentEvent(
            data=raw.decode("utf-8", errors="replace"), event=self._event, id=self._id, retry=self._retry
        )
        self._data = None
        self._event = None
        return event
