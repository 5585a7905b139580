"""No cassette holds a key: every file under cassettes/ is scanned (gzip and YAML `!!binary` bodies too).

The scanner is itself tested on synthetic leaks, and the vcr configuration is tested end to end: a real
recording against the replica with keys in headers and a key echoed in the response body comes out clean,
and replays for another host by path + JSON body.
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from tests import cassette_support
from tests.cassette_support import CASSETTES_ROOT, RECORDING_KEYS, find_secrets, scan_file
from tests.replica import Fault, Replica

LEAKS = [
    "authorization:\n    - Bearer abcdefghijklmnop0123456789\n",
    "x-api-key:\n    - 3f9a1c0e7b2d4a6f8e0c1b3d5f7a9c2e\n",
    '{"error": {"message": "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz"}}',
    "api_key=0123456789abcdef0123456789abcdef",
    f"authorization:\n    - Bearer {RECORDING_KEYS['apipie']}\n",
]
CLEAN = [
    "authorization:\n    - PLACEHOLDER\nx-api-key:\n    - PLACEHOLDER\n",
    '{"usage": {"prompt_tokens": 1234567890123456, "completion_tokens_details": {"reasoning_tokens": 3}}}',
    "Send Authorization: Bearer <key> or x-api-key.",
    '{"message": "Send it in the Authorization header as a Bearer token."}',
    '{"id": "npNsb7U-z1gNr-92d8a505afd7ef73", "requestId": "dc7803e67dfc9679269a2a79c5e0cf66"}',
]


def cassette_files() -> list[Path]:
    if not CASSETTES_ROOT.exists():
        return []
    return sorted(p for p in CASSETTES_ROOT.rglob("*") if p.is_file())


def test_every_cassette_file_is_free_of_secrets() -> None:
    offenders = {
        str(p.relative_to(CASSETTES_ROOT)): found for p in cassette_files() if (found := scan_file(p))
    }
    assert offenders == {}


@pytest.mark.parametrize("leak", LEAKS)
def test_scanner_flags_leaks_in_plain_gzip_and_binary_forms(tmp_path: Path, leak: str) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"interactions:\n- request:\n    headers:\n      {leak}\n")
    zipped = tmp_path / "zipped.yaml.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    encoded = base64.b64encode(gzip.compress(leak.encode())).decode()
    binary = tmp_path / "binary.yaml"
    binary.write_text(f"response:\n  body:\n    string: !!binary |\n      {encoded}\n  status: 200\n")
    for path in (plain, zipped, binary):
        assert scan_file(path), f"{path.name} leak not found: {leak!r}"


@pytest.mark.parametrize("text", CLEAN)
def test_scanner_accepts_placeholders_and_ordinary_fields(text: str) -> None:
    assert find_secrets(text) == []


def test_redact_removes_what_the_scanner_finds() -> None:
    for leak in LEAKS:
        assert find_secrets(cassette_support.redact(leak)) == []


def _use_cassette(path: Path, record_mode: str) -> Any:
    recorder = vcr.VCR()
    cassette_support.register(recorder)
    return recorder.use_cassette(str(path), record_mode=record_mode, **cassette_support.vcr_config())


def test_recording_is_scrubbed_and_replays_by_path_and_json_body(tmp_path: Path, replica: Replica) -> None:
    echoed_key = "sk-live-0123456789abcdefghij"
    replica.apipie.enqueue(
        Fault(
            status=401,
            body_kind="raw",
            body={"error": {"message": f"Incorrect API key provided: {echoed_key}"}},
            headers={"Set-Cookie": "session=0123456789abcdef0123456789abcdef; HttpOnly"},
        )
    )
    cassette = tmp_path / "scrub.yaml"
    body = {"model": "hermes-3-llama-3-1-70b", "messages": [{"role": "user", "content": "Hello"}], "top_p": 1}
    headers = {
        "Authorization": f"Bearer {RECORDING_KEYS['apipie']}",
        "x-api-key": RECORDING_KEYS["apipie"],
        "Cookie": "session=abcdef0123456789abcdef0123456789",
    }
    url = replica.apipie.base_url + "/chat/completions"
    with _use_cassette(cassette, "all"):
        refused = httpx.post(url, json=body, headers=headers)
        answered = httpx.post(url, json=body, headers=headers)
    assert refused.status_code == 401
    assert echoed_key in refused.text
    assert answered.status_code == 200
    assert replica.apipie.requests[-1].headers["authorization"].endswith(RECORDING_KEYS["apipie"])

    text = cassette.read_text()
    assert scan_file(cassette) == []
    assert "PLACEHOLDER" in text
    assert "session=" not in text
    assert echoed_key not in text
    assert "REDACTED" in text

    # Replay: another scheme/host/port, the same JSON with keys in another order and other spacing.
    reordered = (
        '{"top_p": 1, "messages": [{"content": "Hello", "role": "user"}],  "model": "hermes-3-llama-3-1-70b"}'
    )
    public = "https://apipie.ai/v1/chat/completions"
    with _use_cassette(cassette, "none"):
        first = httpx.post(public, content=reordered, headers={"Content-Type": "application/json"})
        second = httpx.post(public, content=reordered, headers={"Content-Type": "application/json"})
        assert first.status_code == 401
        assert "REDACTED" in first.text
        assert (
            second.json()["choices"][0]["message"]["content"]
            == answered.json()["choices"][0]["message"]["content"]
        )
        with pytest.raises(CannotOverwriteExistingCassetteException):
            httpx.post(public, json={**body, "top_p": 0.5})


@pytest.mark.vcr
def test_marked_test_replays_its_committed_cassette() -> None:
    """The whole flow: recorded by `python -m tests.record_cassettes` against the replica, replayed here
    against the public URL (no socket is opened: pytest-socket allows loopback only)."""
    url = cassette_support.gateway_base_url("aimlapi") + "/chat/completions"
    key = cassette_support.gateway_api_key("aimlapi")
    body = {
        "model": "nousresearch/hermes-4-70b",
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": True,
    }
    with httpx.stream("POST", url, json=body, headers={"Authorization": f"Bearer {key}"}) as resp:
        raw = resp.read()
    assert resp.status_code == 200
    assert b"\r\n\r\n" in raw  # the AI/ML API dialect's CRLF events survive recording
    assert b'"usd_spent"' in raw
    assert b"[DONE]" not in raw
