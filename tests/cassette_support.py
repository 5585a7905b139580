"""vcrpy / pytest-recording configuration shared by every test that replays cassettes.

Cassettes live in `cassettes/replica/<suite>/` (recorded against tests/replica) or `cassettes/live/<suite>/`
(recorded against the real gateways). Replay matches method + path + query + a JSON-normalised body, never
scheme/host/port, so a cassette recorded against `http://127.0.0.1:PORT/v1` replays for a client pointed at
`https://apipie.ai/v1`. Keys are scrubbed on the way in (request headers) and out (response headers and
bodies), and `find_secrets` is what tests/test_cassettes_scrubbed.py scans every cassette with.

Environment:
- HERMES_RECORD=replica|live — set by `python -m tests.record_cassettes` while recording.
- HERMES_CASSETTES=live — replay the live cassettes instead of the replica ones.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parent.parent
CASSETTES_ROOT = REPO_ROOT / "cassettes"

Target = Literal["replica", "live"]

PUBLIC_BASE_URLS: dict[str, str] = {
    "apipie": "https://apipie.ai/v1",
    "aimlapi": "https://api.aimlapi.com/v1",
    "openai": "http://localhost:8000/v1",
}
"""What clients use while replaying (the host is not matched) and while recording live. "openai" has no
public gateway: its cassettes come from the replica (or a local vLLM/Ollama at OPENAI_BASE_URL)."""

BASE_URL_ENV: dict[str, str] = {
    "apipie": "APIPIE_BASE_URL",
    "aimlapi": "AIMLAPI_BASE_URL",
    "openai": "OPENAI_BASE_URL",
}
KEY_ENV: dict[str, str] = {
    "apipie": "APIPIE_API_KEY",
    "aimlapi": "AIMLAPI_API_KEY",
    "openai": "OPENAI_API_KEY",
}
GATEWAY_ENV_VARS: tuple[str, ...] = (
    *BASE_URL_ENV.values(),
    *KEY_ENV.values(),
    "AIML_API_KEY",
)
"""Everything a test must not inherit from the developer's shell while replaying."""

RECORDING_KEYS: dict[str, str] = {
    "apipie": "replica-recording-key-apipie-7f3a9c",
    "aimlapi": "replica-recording-key-aimlapi-2b8e4d",
    "openai": "replica-recording-key-openai-91c0e5",
}
"""Dummy keys sent to the replica while recording; finding one in a cassette means scrubbing failed."""

REPLAY_KEY = "replay-dummy-key-not-a-secret"
"""The key tests hand to clients while replaying: the replica accepts any key and vcrpy sends nothing."""

PLACEHOLDER = "PLACEHOLDER"
_SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "proxy-authorization")
_DROPPED_REQUEST_HEADERS = ("cookie", "host")
_DROPPED_RESPONSE_HEADERS = ("set-cookie", "cookie", "authorization", "x-api-key", "api-key", "date")
_ALLOWED_VALUES = r"(?!PLACEHOLDER\b|REDACTED\b|<)"

SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)\bbearer\s+" + _ALLOWED_VALUES + r"[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
    re.compile(
        r"(?i)(?<![\w-])(?:authorization|proxy-authorization|x-api-key|api[-_]?key|apikey|access[-_]token|"
        r"secret|password|token)(?![\w-])[\"']?\s*[:=]\s*(?:\[\s*|-\s+)?[\"']?"
        + _ALLOWED_VALUES
        + r"([A-Za-z0-9._~+/=-]{16,})"
    ),
    re.compile("|".join(re.escape(k) for k in (*RECORDING_KEYS.values(), REPLAY_KEY))),
)


# ---- where cassettes go ---------------------------------------------------------------------------------
def record_target() -> Target | None:
    """ "replica" or "live" while `tests.record_cassettes` is recording, else None."""
    value = os.environ.get("HERMES_RECORD", "").strip().lower()
    if value in ("replica", "live"):
        return value  # type: ignore[return-value]
    return None


def cassette_target() -> Target:
    """The folder family in use: the recording target, else HERMES_CASSETTES (default "replica")."""
    recording = record_target()
    if recording is not None:
        return recording
    return "live" if os.environ.get("HERMES_CASSETTES", "").strip().lower() == "live" else "replica"


def cassette_dir(suite: str) -> str:
    """`cassettes/<target>/<suite>/`."""
    return str(CASSETTES_ROOT / cassette_target() / suite)


def gateway_base_url(gateway: str) -> str:
    """The base URL a test gives its client: the replica's while recording against it (from the env vars
    `tests.record_cassettes` sets), the real gateway's otherwise (replay ignores the host)."""
    if record_target() == "replica":
        url = os.environ.get(BASE_URL_ENV[gateway])
        if not url:
            raise RuntimeError(f"HERMES_RECORD=replica but {BASE_URL_ENV[gateway]} is not set")
        return url
    if record_target() == "live" and gateway == "openai":
        return os.environ.get(BASE_URL_ENV[gateway], PUBLIC_BASE_URLS[gateway])
    return PUBLIC_BASE_URLS[gateway]


def gateway_api_key(gateway: str) -> str:
    """The key a test gives its client: the real one from the env while recording live, the dummy
    recording key while recording against the replica, a dummy replay key otherwise."""
    target = record_target()
    if target == "live":
        key = os.environ.get(KEY_ENV[gateway])
        if not key:
            raise RuntimeError(f"recording live needs {KEY_ENV[gateway]}")
        return key
    if target == "replica":
        return os.environ.get(KEY_ENV[gateway]) or RECORDING_KEYS[gateway]
    return REPLAY_KEY


# ---- matching ---------------------------------------------------------------------------------------
GENERATED_CALL_ID = re.compile(r"call_[0-9a-f]{24}")
"""The tool-call ids the core generates (`call_` + 24 hex digits, fresh per call since issue 12; the older
hashed ids had the same shape). Matching numbers them in order of appearance, so a replayed history matches
its recording whatever ids this run generated."""


def _normalise_generated_ids(text: str) -> str:
    seen: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"call_generated_{len(seen)}")

    return GENERATED_CALL_ID.sub(number, text)


def _normalised_body(body: Any) -> tuple[str, Any]:
    if body is None:
        return ("empty", None)
    if isinstance(body, (bytes, bytearray)):
        if not body:
            return ("empty", None)
        try:
            text = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return ("bytes", bytes(body))
    else:
        text = str(body)
    if not text:
        return ("empty", None)
    text = _normalise_generated_ids(text)
    try:
        return ("json", json.loads(text))
    except json.JSONDecodeError:
        return ("text", text)


def json_body_matcher(r1: Any, r2: Any) -> None:
    """vcrpy matcher: bodies equal as parsed JSON (key order and whitespace ignored), else as text."""
    left, right = _normalised_body(r1.body), _normalised_body(r2.body)
    if left != right:
        raise AssertionError(f"bodies differ: {str(left[1])[:300]!r} != {str(right[1])[:300]!r}")


def register(vcr: Any) -> None:
    """Register the custom matcher on a vcr.VCR (called from pytest_recording_configure)."""
    vcr.register_matcher("json_body", json_body_matcher)


# ---- scrubbing --------------------------------------------------------------------------------------
def redact(text: str) -> str:
    """`text` with every secret-looking value replaced by REDACTED."""
    for pattern in SECRET_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(0).replace(m.group(1), "REDACTED"), text)
        else:
            text = pattern.sub("REDACTED", text)
    return text


def _public_uri(uri: str) -> str:
    """A replica URI rewritten to the gateway's public one, so re-recordings don't differ by port."""
    if record_target() != "replica":
        return uri
    for gateway, env_name in BASE_URL_ENV.items():
        local = os.environ.get(env_name, "").rstrip("/")
        if local and uri.startswith(local + "/"):
            return PUBLIC_BASE_URLS[gateway] + uri[len(local) :]
    return uri


def scrub_request(request: Any) -> Any:
    """before_record_request: drop cookies and key-like query parameters (headers: `filter_headers`);
    while recording against the replica, record the gateway's public URI instead of the loopback one."""
    request.uri = _public_uri(request.uri)
    for name in list(request.headers):
        if name.lower() in _DROPPED_REQUEST_HEADERS:
            del request.headers[name]
        elif name.lower() in _SECRET_HEADERS:
            request.headers[name] = PLACEHOLDER
    if isinstance(request.body, (bytes, str)) and request.body:
        raw = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else request.body
        cleaned = redact(raw)
        if cleaned != raw:
            request.body = cleaned.encode() if isinstance(request.body, bytes) else cleaned
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """before_record_response: drop cookie/auth headers; redact key-like text a gateway echoes back."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in _DROPPED_RESPONSE_HEADERS:
            del headers[name]
    body = response.get("body") or {}
    raw = body.get("string")
    if isinstance(raw, (bytes, str)) and raw:
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            return response
        cleaned = redact(text)
        if cleaned != text:
            body["string"] = cleaned.encode() if isinstance(raw, bytes) else cleaned
            for name in list(headers):
                if name.lower() == "content-length":
                    headers[name] = [str(len(cleaned.encode()))]
    return response


def vcr_config() -> dict[str, Any]:
    """The pytest-recording / vcr.VCR configuration (record mode comes from --record-mode)."""
    before_request: Callable[[Any], Any] = scrub_request
    before_response: Callable[[dict[str, Any]], dict[str, Any]] = scrub_response
    return {
        "filter_headers": [(h, PLACEHOLDER) for h in _SECRET_HEADERS]
        + [(h, None) for h in _DROPPED_REQUEST_HEADERS],
        "filter_query_parameters": [("api_key", PLACEHOLDER), ("key", PLACEHOLDER), ("token", PLACEHOLDER)],
        "match_on": ["method", "path", "query", "json_body"],
        "allow_playback_repeats": False,  # a recorded 429-then-200 must replay as 429, then 200
        "decode_compressed_response": True,
        "before_record_request": before_request,
        "before_record_response": before_response,
    }


# ---- scanning -------------------------------------------------------------------------------------------
def find_secrets(text: str) -> list[str]:
    """Every key-like string in `text` (what must never be in a cassette)."""
    found: list[str] = []
    for pattern in SECRET_PATTERNS:
        found.extend(m.group(0) for m in pattern.finditer(text))
    return found


_BINARY_BLOCK = re.compile(r"!!binary\s*\|?\s*\n((?:[ \t]+[A-Za-z0-9+/=]+\s*\n?)+)")


def cassette_text(data: bytes) -> str:
    """A cassette file's text: gunzipped if gzip, plus any `!!binary` YAML blocks decoded (and gunzipped)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    text = data.decode("utf-8", "replace")
    extra: list[str] = []
    for block in _BINARY_BLOCK.findall(text):
        try:
            raw = base64.b64decode("".join(block.split()))
        except (binascii.Error, ValueError):
            continue
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except OSError:
                continue
        extra.append(raw.decode("utf-8", "replace"))
    return "\n".join([text, *extra])


def scan_file(path: Path) -> list[str]:
    """The secrets found in one cassette file."""
    return find_secrets(cassette_text(path.read_bytes()))
