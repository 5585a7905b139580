"""`doctor --record`: the doctor's HTTP exchanges written as scrubbed vcrpy cassettes under `cassettes/live/`.

Why the library writes them itself: users run `doctor` from an installed package, without this repository's
test tooling, and their recordings are how real payload shapes reach the project. The file is JSON, which is
also valid YAML, so vcrpy (and `tests/test_cassettes_scrubbed.py`, which scans every file under cassettes/)
reads it as an ordinary cassette.

Scrubbing, the same rules as the test suite's recorder (tests/cassette_support.py): credential headers become
`PLACEHOLDER`, cookies and dates are dropped, and in every body and header the user's key itself and anything
key-like (`Bearer ...`, `sk-...`, `api_key=...`) become `REDACTED`. A file is only written after a final scan
finds nothing key-like in it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

PLACEHOLDER = "PLACEHOLDER"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization"})
DROPPED_HEADERS = frozenset({"cookie", "set-cookie", "date", "host"})
_ALLOWED = r"(?!PLACEHOLDER\b|REDACTED\b|<)"
SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\bbearer\s+" + _ALLOWED + r"[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
    re.compile(
        r"(?i)(?<![\w-])(?:authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|access[-_]token|"
        r"secret|password|token)(?![\w-])[\"']?\s*[:=]\s*(?:\[\s*|-\s+)?[\"']?"
        + _ALLOWED
        + r"([A-Za-z0-9._~+/=-]{16,})"
    ),
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its answer, as sent and received (before scrubbing)."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes


def redact_text(text: str, secret: str | None) -> str:
    """`text` with the key and every key-like value replaced by REDACTED."""
    if secret:
        text = text.replace(secret, "REDACTED")
    for pattern in SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(0).replace(m.group(1), "REDACTED"), text)
        else:
            text = pattern.sub("REDACTED", text)
    return text


def _headers(pairs: tuple[tuple[str, str], ...], secret: str | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in DROPPED_HEADERS:
            continue
        out.setdefault(lower, []).append(
            PLACEHOLDER if lower in SECRET_HEADERS else redact_text(value, secret)
        )
    return out


def _body(raw: bytes, secret: str | None) -> str:
    return redact_text(raw.decode("utf-8", errors="replace"), secret)


def cassette(exchanges: list[Exchange], secret: str | None) -> dict[str, object]:
    """The vcrpy cassette (version 1) of `exchanges`, scrubbed."""
    interactions = []
    for ex in exchanges:
        body = _body(ex.response_body, secret)
        headers = _headers(ex.response_headers, secret)
        if "content-length" in headers:
            headers["content-length"] = [str(len(body.encode()))]
        interactions.append(
            {
                "request": {
                    "body": _body(ex.request_body, secret) or None,
                    "headers": _headers(ex.request_headers, secret),
                    "method": ex.method,
                    "uri": redact_text(ex.url, secret),
                },
                "response": {
                    "body": {"string": body},
                    "headers": headers,
                    "status": {"code": ex.status, "message": ex.reason},
                },
            }
        )
    return {"interactions": interactions, "version": 1}


def find_secrets(text: str, secret: str | None) -> list[str]:
    """What in `text` still looks like a key (empty when the scrub worked)."""
    found = [secret] if secret and secret in text else []
    for pattern in SECRET_PATTERNS:
        found += [m.group(0) for m in pattern.finditer(text)]
    return found


def write_cassette(path: Path, exchanges: list[Exchange], secret: str | None) -> Path:
    """Write the scrubbed cassette; RuntimeError (nothing written) if anything key-like survived."""
    text = json.dumps(cassette(exchanges, secret), indent=1, ensure_ascii=False) + "\n"
    if find_secrets(text, secret):
        raise RuntimeError(f"refusing to write {path}: something key-like survived scrubbing")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
