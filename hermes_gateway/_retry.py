"""The retry policy: pure decisions, no sleeping.

The sync and async drivers in `_client.py` ask `RetryPolicy.next_delay(attempt, error)` after a failure and
sleep (`time.sleep` / `asyncio.sleep`) for what it answers, or re-raise on None. Keeping the policy pure makes
every rule testable without a clock or a server.

Rules (after openai-python `_base_client.py`):
- retry connection errors, timeouts and interrupted replies, and HTTP 408, 409, 429 and 5xx;
- never 400/401/402/403/404/422 or any other error (a malformed body, a missing key);
- never after a stream has yielded to the caller (the driver does not ask then);
- wait what the server asked (`retry-after-ms`, then `Retry-After` seconds, then an HTTP date) when that is
  between 0 and `max_retry_after`; otherwise `initial_delay * 2**attempt`, capped at `max_delay`, with jitter.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._constants import (
    DEFAULT_MAX_RETRIES,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_JITTER,
)
from ._exceptions import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    NotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

logger = logging.getLogger("hermes_gateway")

RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 409, 429})
"""Besides every 5xx."""
NEVER_RETRIED: tuple[type[GatewayError], ...] = (
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    InvalidResponseError,
    NotFoundError,
)


def is_retryable(error: GatewayError) -> bool:
    """Whether an attempt that failed with `error` may be repeated."""
    if isinstance(error, APIConnectionError):  # includes timeouts and interrupted replies
        return True
    if isinstance(error, NEVER_RETRIED):  # what the body meant outranks the status (429 insufficient_quota)
        return False
    status = error.status_code
    if status is None or not 400 <= status < 600:
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait per `retry-after-ms`, `Retry-After` (seconds or an HTTP date); None when absent or bad.

    `headers` lookups must be case-insensitive (httpx.Headers is) or use lower-case keys.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000.0
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with no zone information
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    current = time.time() if now is None else now
    return parsed.timestamp() - current


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many times and how long to wait. Frozen: share one per client."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = INITIAL_RETRY_DELAY
    max_delay: float = MAX_RETRY_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    jitter: float = RETRY_JITTER
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    """Source of jitter in [0, 1); tests pass a constant."""

    def backoff(self, attempt: int) -> float:
        """The computed wait before retry number `attempt + 1` (attempt counts from 0)."""
        delay = min(self.initial_delay * 2.0**attempt, self.max_delay)
        return delay * (1.0 - self.jitter * self.random())

    def delay_for(self, attempt: int, error: GatewayError) -> float:
        """The wait before the next attempt: the server's Retry-After when sane, else the backoff."""
        retry_after = error.retry_after
        if retry_after is not None and 0.0 <= retry_after <= self.max_retry_after:
            return retry_after
        return self.backoff(attempt)

    def next_delay(self, attempt: int, error: GatewayError) -> float | None:
        """Seconds to sleep before retrying after failed attempt `attempt` (from 0), or None to give up."""
        if not is_retryable(error):
            logger.debug("not retrying %s: %s is not retryable", error.gateway, type(error).__name__)
            return None
        if attempt >= self.max_retries:
            logger.debug(
                "not retrying %s: %d retries spent (%s)",
                error.gateway,
                self.max_retries,
                type(error).__name__,
            )
            return None
        delay = self.delay_for(attempt, error)
        logger.debug(
            "retrying %s in %.2fs (retry %d of %d) after %s status=%s",
            error.gateway,
            delay,
            attempt + 1,
            self.max_retries,
            type(error).__name__,
            error.status_code,
        )
        return delay
