"""Defaults in one place: timeouts, retry backoff, caps, excerpt sizes.

Everything tunable lives here so that the client, the retry policy and the error parser agree, and a reader
can see every magic number of the package on one screen.
"""

from __future__ import annotations

from typing import Final

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds allowed to connect and for each read (including the wait for the first byte of a stream)."""

DEFAULT_MAX_RETRIES: Final = 2
"""Retries after the first attempt, for connection errors, timeouts, 408, 409, 429 and 5xx."""

INITIAL_RETRY_DELAY: Final = 0.5
"""Backoff before the first retry when the server gives no usable Retry-After; doubles each retry."""

MAX_RETRY_DELAY: Final = 8.0
"""Cap on the computed exponential backoff."""

MAX_RETRY_AFTER: Final = 60.0
"""A server-sent Retry-After longer than this is not honoured (the computed backoff is used instead)."""

RETRY_JITTER: Final = 0.25
"""The computed backoff is multiplied by a random factor in (1 - RETRY_JITTER, 1]."""

MAX_CONNECTIONS: Final = 100
MAX_KEEPALIVE_CONNECTIONS: Final = 20

ERROR_EXCERPT_CHARS: Final = 200
"""How much of a non-JSON error body (HTML page, plain text) is quoted in the exception message."""

USER_AGENT: Final = "hermes-gateway/0.1.0"

LOOPBACK_HOSTNAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
"""Host names treated as loopback besides 127.0.0.0/8 and ::1 (plain http is allowed to these)."""

MODELS_CACHE_TTL: Final = 300.0
"""Seconds a fetched model list is reused without asking (AI/ML API's deprecation feed sends max-age=300)."""

MODELS_TIMEOUT: Final = 30.0
"""Seconds allowed for a Models route request (connect and each read)."""

CHARS_PER_TOKEN: Final = 4
"""The context guard's estimate: non-whitespace characters per token (`_guards.estimate_prompt_tokens`)."""

MESSAGE_TOKEN_OVERHEAD: Final = 3
"""Tokens the chat template adds per message (ChatML `<|im_start|>role\\n` ... `<|im_end|>`: at least 3)."""

IMAGE_TOKEN_ESTIMATE: Final = 576
"""Tokens counted per image part: LLaVA-1.5's 24x24 patch grid, a lower bound for SigLIP-384 (729 patches)."""

CONTEXT_GUARD_MARGIN: Final = 1.10
"""The context guard fires only when the (low-biased) estimate exceeds the window by more than this factor."""
