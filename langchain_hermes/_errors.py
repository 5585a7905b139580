"""Errors through ChatHermes are also LangChain's `ModelError`s: the one place that makes them so.

LangChain's middleware decides by class: `ModelRetryMiddleware` resends anything that is not a `ModelError`
with `is_retryable=False`, `SummarizationMiddleware` cuts its summary prompt on `ContextOverflowError`. So
every `hermes_gateway.GatewayError` leaving ChatHermes is re-classed, in place, to a subclass of both its own
class and the matching `langchain_core.exceptions` class: `except hermes_gateway.RateLimitError` and
`except ModelRateLimitError` both catch it, and the object, its message, attributes, traceback and cause chain
are unchanged (`__class__` is swapped, nothing is copied or re-raised from a new object).

```
hermes_gateway                   langchain_core.exceptions
APITimeoutError                  ModelTimeoutError
APIConnectionError, StreamInterruptedError  ModelConnectionError
AuthenticationError (401), MissingAPIKeyError  ModelAuthenticationError
AuthenticationError (403)        ModelPermissionDeniedError
InsufficientCreditsError         ModelPermissionDeniedError (402; AI/ML API says it with a 403)
BadRequestError, VisionNotSupportedError  ModelInvalidRequestError
ContextWindowExceededError       ContextOverflowError (and ModelInvalidRequestError)
NotFoundError                    ModelNotFoundError
RateLimitError                   ModelRateLimitError
ServerError, InvalidResponseError, other statuses  ModelAPIError
```

`is_retryable` is not LangChain's per-class default: it is set on each error to
`hermes_gateway.is_retryable(error)`, the rule the core's own retries follow (connection errors, timeouts,
408/409/429/5xx yes; 400/401/402/403/404/422, a malformed answer, what the body says is out of credit no).
The framework's retries and ours agree.

Cost: one `try` around each entry point (free in CPython 3.11 until something raises); nothing per chunk.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

import hermes_gateway as hg

if TYPE_CHECKING:
    from collections.abc import Iterator


class HermesAPITimeoutError(hg.APITimeoutError, ModelTimeoutError):
    """A timeout: `hermes_gateway.APITimeoutError` and LangChain's `ModelTimeoutError`."""


class HermesStreamInterruptedError(hg.StreamInterruptedError, ModelConnectionError):
    """A cut reply: `hermes_gateway.StreamInterruptedError` and LangChain's `ModelConnectionError`."""


class HermesAPIConnectionError(hg.APIConnectionError, ModelConnectionError):
    """No answer: `hermes_gateway.APIConnectionError` and LangChain's `ModelConnectionError`."""


class HermesMissingAPIKeyError(hg.MissingAPIKeyError, ModelAuthenticationError):
    """No key: `hermes_gateway.MissingAPIKeyError` and LangChain's `ModelAuthenticationError`."""


class HermesAuthenticationError(hg.AuthenticationError, ModelAuthenticationError):
    """401: `hermes_gateway.AuthenticationError` and LangChain's `ModelAuthenticationError`."""


class HermesPermissionDeniedError(hg.AuthenticationError, ModelPermissionDeniedError):
    """403: `hermes_gateway.AuthenticationError` and LangChain's `ModelPermissionDeniedError`."""


class HermesInsufficientCreditsError(hg.InsufficientCreditsError, ModelPermissionDeniedError):
    """Out of credit: `hermes_gateway.InsufficientCreditsError` and `ModelPermissionDeniedError`."""


class HermesContextWindowExceededError(
    hg.ContextWindowExceededError, ContextOverflowError, ModelInvalidRequestError
):
    """The prompt does not fit: `hermes_gateway.ContextWindowExceededError` and LangChain's
    `ContextOverflowError` (what `SummarizationMiddleware` reacts to)."""


class HermesVisionNotSupportedError(hg.VisionNotSupportedError, ModelInvalidRequestError):
    """Images to a text-only model: `VisionNotSupportedError` and `ModelInvalidRequestError`."""


class HermesBadRequestError(hg.BadRequestError, ModelInvalidRequestError):
    """400/405/413/422: `hermes_gateway.BadRequestError` and LangChain's `ModelInvalidRequestError`."""


class HermesNotFoundError(hg.NotFoundError, ModelNotFoundError):
    """404: `hermes_gateway.NotFoundError` and LangChain's `ModelNotFoundError`."""


class HermesRateLimitError(hg.RateLimitError, ModelRateLimitError):
    """429: `hermes_gateway.RateLimitError` and LangChain's `ModelRateLimitError`."""


class HermesServerError(hg.ServerError, ModelAPIError):
    """5xx: `hermes_gateway.ServerError` and LangChain's `ModelAPIError`."""


class HermesInvalidResponseError(hg.InvalidResponseError, ModelAPIError):
    """A malformed 2xx answer: `hermes_gateway.InvalidResponseError` and `ModelAPIError` (not retryable)."""


class HermesGatewayError(hg.GatewayError, ModelAPIError):
    """Any other status (408, 409, ...): `hermes_gateway.GatewayError` and LangChain's `ModelAPIError`."""


_CLASSES: dict[type[hg.GatewayError], type[hg.GatewayError]] = {
    hg.APITimeoutError: HermesAPITimeoutError,
    hg.StreamInterruptedError: HermesStreamInterruptedError,
    hg.APIConnectionError: HermesAPIConnectionError,
    hg.MissingAPIKeyError: HermesMissingAPIKeyError,
    hg.AuthenticationError: HermesAuthenticationError,
    hg.InsufficientCreditsError: HermesInsufficientCreditsError,
    hg.ContextWindowExceededError: HermesContextWindowExceededError,
    hg.VisionNotSupportedError: HermesVisionNotSupportedError,
    hg.BadRequestError: HermesBadRequestError,
    hg.NotFoundError: HermesNotFoundError,
    hg.RateLimitError: HermesRateLimitError,
    hg.ServerError: HermesServerError,
    hg.InvalidResponseError: HermesInvalidResponseError,
    hg.GatewayError: HermesGatewayError,
}
"""Core class → its LangChain twin. Looked up along the MRO, so a core subclass added later still gets the
twin of its nearest known parent."""


def _twin(error: hg.GatewayError) -> type[hg.GatewayError] | None:
    if isinstance(error, ModelError):
        return None  # already translated (a nested call, or an error raised twice)
    if type(error) is hg.AuthenticationError and error.status_code == 403:
        return HermesPermissionDeniedError
    for cls in type(error).__mro__:
        twin = _CLASSES.get(cls)
        if twin is not None:
            return twin if issubclass(twin, type(error)) else None
    return None


def as_langchain_error(error: hg.GatewayError) -> hg.GatewayError:
    """`error` itself, re-classed to its twin (also the errors in `attempts`, after failover)."""
    twin = _twin(error)
    if twin is not None:
        error.__class__ = twin
        # LangChain's default is per class; ours is per error (a 408 and a 400 are both plain GatewayError).
        cast("ModelError", error).is_retryable = hg.is_retryable(error)
    for attempt in error.attempts:
        if attempt is not error:
            as_langchain_error(attempt)
    return error


@contextmanager
def langchain_errors() -> Iterator[None]:
    """Around an entry point (sync or async: nothing here awaits): a `GatewayError` leaves as its LangChain
    twin, the same object."""
    try:
        yield
    except hg.GatewayError as error:
        as_langchain_error(error)
        raise
