"""Scripted behaviour for the next requests: statuses, bodies, delays, broken streams.

A `Fault` is consumed by one request (chat completions unless `path` says otherwise). Fields combine: a
fault with `truncate_after=3` and no status serves the brain's normal stream, cut after three chunks.
`PASS` (a default `Fault()`) lets one request through untouched, for sequences like
`[Fault.status(503), Fault.status(503), PASS]`.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from typing import Any, Literal

BodyKind = Literal["dialect", "account", "problem", "html", "empty", "raw"]


def http_date(seconds_from_now: float) -> str:
    """An HTTP date `seconds_from_now` in the future, for `Retry-After`."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@dataclass(slots=True)
class Fault:
    status: int | None = None
    """Answer with this status instead of the brain's reply (the body per `body_kind`)."""
    message: str | None = None
    """The error message in the dialect's shape (a default per status when None)."""
    body_kind: BodyKind = "dialect"
    """dialect: the dialect's error shape; account: 402 {"code":"ACCOUNT_ERROR"}; problem: application/
    problem+json; html: an HTML error page; empty: no body; raw: `body` as given."""
    body: bytes | str | dict[str, Any] | list[Any] | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error_in_200: bool = False
    """A 200 whose JSON body is an error object (APIpie has been seen doing this)."""
    delay_before_headers: float = 0.0
    delay_before_body: float = 0.0
    """Headers are sent at once, the first body byte after this delay (slow first byte)."""
    stall_after: int | None = None
    stall_seconds: float = 0.0
    """Streams: wait `stall_seconds` after event number `stall_after` (0-based), or between every event
    from then on when `stall_every` is set."""
    stall_every: bool = False
    truncate_after: int | None = None
    """Streams: end the HTTP body cleanly after this many events (no finish chunk, no [DONE])."""
    reset_before_headers: bool = False
    """Close the connection with an RST (SO_LINGER 0) before any byte is sent."""
    reset_after: int | None = None
    """Streams: RST after this many events."""
    malformed_at: int | None = None
    """Streams: replace event number `malformed_at` with a broken JSON chunk, then go on."""
    chunks: list[str | bytes | dict[str, Any]] | None = None
    """Streams: serve exactly these events instead of the brain's (dicts become `data: {json}`, str become
    `data: <str>`, bytes are sent verbatim); a non-streamed request gets `chunks[0]` as the JSON body."""
    close_delimited: bool = False
    """Streams: no chunked encoding; the body ends when the connection closes."""
    path: str | None = None
    """Which path consumes this fault; None means POST /v1/chat/completions."""

    # ---- presets -------------------------------------------------------------------------------------
    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Fault:
        """`status` with the dialect's error body; Retry-After as seconds (number) or verbatim (str, e.g.
        `http_date(2)`), and/or retry-after-ms."""
        hdrs = dict(headers or {})
        if retry_after is not None:
            hdrs["Retry-After"] = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        if retry_after_ms is not None:
            hdrs["retry-after-ms"] = f"{retry_after_ms:g}"
        return cls(status=status, message=message, headers=hdrs, **kw)

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = 1, **kw: Any) -> Fault:
        return cls.error(429, retry_after=retry_after, **kw)

    @classmethod
    def account_error(cls) -> Fault:
        return cls(status=402, body_kind="account")

    @classmethod
    def problem(cls, status: int, message: str | None = None) -> Fault:
        return cls(status=status, message=message, body_kind="problem")

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        return cls(status=status, body_kind="html")

    @classmethod
    def empty(cls, status: int = 500) -> Fault:
        return cls(status=status, body_kind="empty")

    @classmethod
    def error_200(cls, message: str = "Upstream provider returned an error") -> Fault:
        return cls(error_in_200=True, message=message)

    @classmethod
    def reset(cls, after: int | None = None) -> Fault:
        """RST before the headers (after=None) or after `after` stream events."""
        return cls(reset_before_headers=after is None, reset_after=after)

    @classmethod
    def truncate(cls, after: int) -> Fault:
        return cls(truncate_after=after)

    @classmethod
    def malformed(cls, at: int) -> Fault:
        return cls(malformed_at=at)

    @classmethod
    def slow_headers(cls, seconds: float) -> Fault:
        return cls(delay_before_headers=seconds)

    @classmethod
    def slow_first_byte(cls, seconds: float) -> Fault:
        return cls(delay_before_body=seconds)

    @classmethod
    def stall(cls, after: int, seconds: float, *, every: bool = False) -> Fault:
        return cls(stall_after=after, stall_seconds=seconds, stall_every=every)

    @classmethod
    def script_chunks(cls, chunks: list[str | bytes | dict[str, Any]], **kw: Any) -> Fault:
        return cls(chunks=chunks, **kw)


PASS = Fault()
"""Let one request through to the brain unchanged."""
