"""The error tree. Every failure the client raises is a `GatewayError`:

```
GatewayError                          status_code, gateway, request_id, body, message, retry_after
├── APIConnectionError                no complete answer: refused, reset, DNS
│   ├── APITimeoutError               connect timeout, or a read (first byte, next chunk) timed out
│   └── StreamInterruptedError        the reply broke off before its finish_reason
├── InvalidResponseError              a 2xx answer that is not the JSON / SSE a chat completion should be
├── AuthenticationError               401, 403 (auth)
│   └── MissingAPIKeyError            no key at the first request: names the env var to set
├── InsufficientCreditsError          402, AI/ML API 403 "run out of credits", APIpie code ACCOUNT_ERROR
├── BadRequestError                   400, 405, 413, 422
│   ├── ContextWindowExceededError    the prompt does not fit; carries the numbers when known
│   └── VisionNotSupportedError       images sent to a text-only model (also a ValueError), before any I/O
├── NotFoundError                     404: model unknown, misspelt, elsewhere or retired; or a wrong base_url
├── RateLimitError                    429
├── ServerError                       5xx
└── BudgetExceededError               a spending cap is reached: raised before anything is sent
```

Other statuses (408, 409, ...) raise `GatewayError` itself. The status → class choice is `STATUS_ERRORS`, one
dict; `_error_bodies.py` refines it from the body (credits, context window). httpx exceptions are translated
in exactly one place, `map_httpx_errors`, always with `raise ... from exc`.

No exception holds the request or anything else that could carry the API key. After failover across
gateways, the error raised is the last gateway's, with every gateway's error in `attempts`.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


class GatewayError(Exception):
    """Base of every error raised by hermes_gateway."""

    message: str
    """The gateway's own message when it sent one, else ours."""
    status_code: int | None
    """The HTTP status (or the status an in-band error object names); None when there was no answer."""
    gateway: str | None
    request_id: str | None
    """From x-request-id / request-id / cf-ray headers or the body's requestId: quote it to the gateway."""
    body: Any
    """The error body: parsed JSON when it was JSON, else the text (None when there was none)."""
    retry_after: float | None
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), when it said."""
    headers: Mapping[str, str]
    attempts: list[GatewayError]
    """After failover: every gateway's error in order, this one last; otherwise empty."""
    client_request_id: str | None
    """The correlation id the client sent with the call (`X-Client-Request-Id`), when the request was sent."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        gateway: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.gateway = gateway
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        self.headers = dict(headers) if headers is not None else {}
        self.attempts = []
        self.client_request_id = None

    def __str__(self) -> str:
        context = [part for part in (self.gateway, _status_text(self.status_code)) if part]
        if self.request_id:
            context.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(context)})" if context else self.message


def _status_text(status_code: int | None) -> str | None:
    return f"HTTP {status_code}" if status_code is not None else None


class APIConnectionError(GatewayError):
    """No complete answer came back: connection refused or reset, DNS failure, protocol error."""


class APITimeoutError(APIConnectionError):
    """Connecting, or waiting for the first byte or the next chunk, took longer than `timeout`."""


class StreamInterruptedError(APIConnectionError):
    """The reply ended (or the connection broke) before the gateway sent a finish_reason: it is incomplete."""


class InvalidResponseError(GatewayError):
    """A 2xx answer whose body is not the JSON or SSE a chat completion should be (e.g. a malformed chunk)."""


class AuthenticationError(GatewayError):
    """The gateway refused the key (401, or 403 that is not about credits)."""


class MissingAPIKeyError(AuthenticationError):
    """No API key was given or found in the environment at the first request."""


class InvalidAPIKeyError(AuthenticationError):
    """An API key that cannot be sent (control or non-ASCII characters); the message says where it came from
    and never contains the key. Not a ValueError on purpose: pydantic would wrap it and quote its input."""


class InsufficientCreditsError(GatewayError):
    """The account has no credit left (402; AI/ML API 403 "run out of credits"; APIpie ACCOUNT_ERROR)."""


class BadRequestError(GatewayError):
    """The gateway rejected the request itself (400, 405, 413, 422): retrying will not help."""


class ContextWindowExceededError(BadRequestError):
    """The prompt (plus max_tokens) does not fit the model's context window."""

    prompt_tokens: int | None
    context_window: int | None
    max_tokens: int | None

    def __init__(
        self,
        message: str,
        *,
        prompt_tokens: int | None = None,
        context_window: int | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.prompt_tokens = prompt_tokens
        self.context_window = context_window
        self.max_tokens = max_tokens


class VisionNotSupportedError(BadRequestError, ValueError):
    """Images were sent to a model the catalog marks as text-only; raised before any request."""

    model: str

    def __init__(self, message: str, *, model: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.model = model


class NotFoundError(GatewayError):
    """404: usually an unknown or retired model id."""


class RateLimitError(GatewayError):
    """429: too many requests; `retry_after` holds the server's requested wait when it sent one."""


class ServerError(GatewayError):
    """5xx from the gateway or its upstream provider."""


class BudgetExceededError(GatewayError):
    """A spending cap (`hermes_gateway.spending_cap`, `get_hermes_usage_callback(max_cost_usd=...)`, a model's
    `max_cost_usd`) is reached: the request was refused before anything was sent, so it cost nothing."""

    max_cost_usd: float
    spent_usd: float
    """What the scope has spent so far (gateway-reported cost, else catalog price) when the request came."""
    unknown_cost_requests: int
    """Replies in the scope whose cost nobody knew (not in `spent_usd`)."""

    def __init__(
        self, message: str, *, max_cost_usd: float, spent_usd: float, unknown_cost_requests: int = 0
    ) -> None:
        super().__init__(message)
        self.max_cost_usd = max_cost_usd
        self.spent_usd = spent_usd
        self.unknown_cost_requests = unknown_cost_requests


STATUS_ERRORS: dict[int, type[GatewayError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: AuthenticationError,
    404: NotFoundError,
    405: BadRequestError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}
"""Status → class. 5xx not listed here is `ServerError`; anything else is `GatewayError`."""


def error_class_for_status(status_code: int | None) -> type[GatewayError]:
    """The class for an HTTP status, before the body refines it (credits, context window)."""
    if status_code is None:
        return GatewayError
    cls = STATUS_ERRORS.get(status_code)
    if cls is not None:
        return cls
    return ServerError if status_code >= 500 else GatewayError


_WITHHELD = "(message withheld: it quoted the API key)"


def _mentions(exc: BaseException, secret: str) -> bool:
    try:
        return secret in f"{exc}{exc!r}{exc.args!r}{getattr(exc, '__dict__', {})!r}"
    except Exception:  # a broken __str__ cannot be checked: treat it as leaking
        return True


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def scrub_chain(exc: BaseException, secret: str) -> None:
    """Remove `secret` from `exc` and its cause/context chain, in place (h11 quotes an illegal header value
    whole, and httpx copies the text). What cannot be redacted is withheld; a link still leaking is cut."""
    for current in _chain(exc):
        if not _mentions(current, secret):
            continue
        current.args = tuple(a.replace(secret, "***") if isinstance(a, str) else a for a in current.args)
        for name, value in list(getattr(current, "__dict__", {}).items()):
            if isinstance(value, str) and secret in value:
                setattr(current, name, value.replace(secret, "***"))
        if _mentions(current, secret):
            current.args = (_WITHHELD,)
            for name, value in list(getattr(current, "__dict__", {}).items()):
                if not isinstance(value, (int, float, bool, type(None))):
                    setattr(current, name, None)
        if _mentions(current, secret):  # still (a __str__ of its own): cut the chain above it
            exc.__cause__ = exc.__context__ = None
            exc.__suppress_context__ = True
            return


@contextmanager
def map_httpx_errors(
    gateway: str, *, reading_body: bool = False, secret: str | None = None
) -> Iterator[None]:
    """Translate httpx exceptions into the tree: the one place that does it.

    `reading_body` is True while a response body is being read: a broken connection then means the reply was
    cut off (`StreamInterruptedError`), not that the gateway was unreachable.

    `secret` (the key in force) is scrubbed from the httpx exception and its whole cause/context chain
    (`scrub_chain`) before the message is built, so neither the message nor any link of the chain has it.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        if secret:
            scrub_chain(exc, secret)
        phase = "waiting for the next chunk" if reading_body else "connecting or waiting for the first byte"
        raise APITimeoutError(
            f"timed out {phase} ({type(exc).__name__}); raise timeout= if the model is slow", gateway=gateway
        ) from exc
    except httpx.RequestError as exc:  # transport, protocol, decoding, too many redirects
        if secret:
            scrub_chain(exc, secret)
        detail = str(exc) or type(exc).__name__
        if reading_body:
            raise StreamInterruptedError(
                f"the connection broke while reading the reply: {detail}", gateway=gateway
            ) from exc
        raise APIConnectionError(f"could not reach {gateway}: {detail}", gateway=gateway) from exc
