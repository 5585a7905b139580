"""Keeping the API key out of what the client hands back, and off requests to other hosts.

Two leaks the transport alone does not prevent:
- a gateway may echo the key in an error body ("Incorrect API key provided: sk-..."); the error's message and
  body then travel on into framework callbacks and tracers. `redact_error` replaces it before it is raised.
- httpx drops `Authorization` when a redirect leaves the origin, but not the other credential headers
  (`x-api-key`, which APIpie accepts, or `api-key`) a user may put in `default_headers`. `credential_guard`
  is a request hook that removes all of them from any request not addressed to the configured origin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import httpx

    from ._exceptions import GatewayError

REDACTED = "***"
CREDENTIAL_HEADERS: tuple[str, ...] = ("authorization", "x-api-key", "api-key", "proxy-authorization")
MIN_SECRET_LENGTH = 8
"""Shorter "keys" (`ollama`, `EMPTY`) are placeholders local servers accept; redacting them would mangle
ordinary words."""


def redact(value: Any, secret: str) -> Any:
    """`value` with `secret` replaced in every string it holds; containers are copied, never mutated."""
    if isinstance(value, str):
        return value.replace(secret, REDACTED) if secret in value else value
    if isinstance(value, dict):
        return {redact(k, secret): redact(v, secret) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item, secret) for item in value)
    return value


def redact_error(error: GatewayError, secret: str | None) -> GatewayError:
    """The same error with `secret` removed from its message, body, headers and exception args."""
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return error
    error.message = redact(error.message, secret)
    error.body = redact(error.body, secret)
    error.headers = redact(dict(error.headers), secret)
    error.args = redact(error.args, secret)
    return error


def credential_guard(base_url: str) -> Callable[[httpx.Request], None]:
    """An httpx request hook: credential headers go only to `base_url`'s origin (scheme, host, port).

    httpx calls request hooks for every request it sends, redirects included, so a redirect to another host
    (or from https down to http) arrives there without the key.
    """
    import httpx

    origin = httpx.URL(base_url)
    home = (origin.scheme, origin.host, origin.port)

    def guard(request: httpx.Request) -> None:
        url = request.url
        if (url.scheme, url.host, url.port) != home:
            for name in CREDENTIAL_HEADERS:
                request.headers.pop(name, None)

    return guard


def async_credential_guard(base_url: str) -> Callable[[httpx.Request], Awaitable[None]]:
    """`credential_guard` for `httpx.AsyncClient`, whose event hooks must be coroutines."""
    guard = credential_guard(base_url)

    async def aguard(request: httpx.Request) -> None:
        guard(request)

    return aguard
