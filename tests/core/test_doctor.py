"""`python -m hermes_gateway doctor` against the replica, in both dialects, with quirks switched on so that
assumptions fail (or only differ from the documentation, which is a note, not a failure)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import hermes_gateway.__main__ as cli
from tests.cassette_support import scan_file
from tests.replica import Fault, Replica

KEY = "sk-doctor-test-" + "x7" * 12
"""Key-like on purpose: the recording test checks it is scrubbed."""


@pytest.fixture
def live_env(replica: Replica, monkeypatch: pytest.MonkeyPatch) -> Replica:
    for name, url in replica.env().items():
        monkeypatch.setenv(name, url)
    monkeypatch.setenv("APIPIE_API_KEY", KEY)
    monkeypatch.setenv("AIMLAPI_API_KEY", KEY)
    return replica


def doctor(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, dict[tuple[str, str], list[str]], str]:
    code = cli.main(["doctor", *argv])
    out, err = capsys.readouterr()
    rows: dict[tuple[str, str], list[str]] = {}
    for line in out.splitlines()[1:]:
        parts = line.split(None, 2)  # gateway, model, then the check (which may hold a space) and the rest
        if len(parts) == 3 and parts[0] in ("apipie", "aimlapi"):
            check_status = parts[2]
            for check in sorted(CHECKS, key=len, reverse=True):
                if check_status.startswith(check + " "):
                    rows[(parts[0], check)] = check_status[len(check) :].split(None, 1)
                    break
    return code, rows, out + err


CHECKS = (
    "listed",
    "auth",
    "reply",
    "usage",
    "cost",
    "reasoning",
    "stream",
    "stream usage",
    "[DONE]",
    "native tools",
    "tools round trip",
    "prompt tools",
    "response_format",
    "error body",
)


def test_every_assumption_holds_on_the_documented_behaviour(
    live_env: Replica, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows, out = doctor(capsys)
    assert code == 0, out
    for gateway in ("apipie", "aimlapi"):
        for check in CHECKS:
            assert (gateway, check) in rows, (gateway, check, out)
            assert rows[(gateway, check)][0] in ("ok", "note"), (gateway, check, out)
    assert rows[("aimlapi", "native tools")][1].startswith("tool_calls")  # declared: could be confirmed
    assert rows[("aimlapi", "native tools")][0] == "note"
    assert rows[("apipie", "error body")][1].startswith("400 OpenAI envelope")
    assert "requestId" in rows[("aimlapi", "error body")][1]
    spent = float(out.split("spent: $")[1].split()[0])
    assert spent > 0
    # small max_tokens on every chat request
    chat = [r for g in ("apipie", "aimlapi") for r in live_env[g].requests if r.method == "POST"]
    assert chat
    assert all(r.json.get("max_tokens", 0) <= 64 for r in chat)


def test_a_silently_dropped_response_format_fails_where_it_is_documented(
    live_env: Replica, capsys: pytest.CaptureFixture[str]
) -> None:
    live_env.aimlapi.set_quirks("drop_response_format")
    live_env.apipie.set_quirks("drop_response_format")
    code, rows, out = doctor(capsys)
    assert code == 1
    assert rows[("aimlapi", "response_format")][:1] == ["FAIL"]
    assert rows[("aimlapi", "response_format")][1].startswith("ignored")
    assert rows[("apipie", "response_format")][0] == "ok"  # APIpie never documented it: nothing relied on
    assert "1 assumption(s) wrong" in out


def test_dropped_tools_are_a_note_because_auto_mode_does_not_rely_on_them(
    live_env: Replica, capsys: pytest.CaptureFixture[str]
) -> None:
    live_env.aimlapi.set_quirks("drop_tools")
    code, rows, out = doctor(capsys, "--gateway", "aimlapi")
    assert code == 0, out
    assert rows[("aimlapi", "native tools")][0] == "note"
    assert rows[("aimlapi", "native tools")][1].startswith("no tool call (tools dropped?)")
    assert rows[("aimlapi", "prompt tools")][0] == "ok"  # the Hermes format still works


def test_missing_usage_fails_and_the_cost_header_still_counts(
    live_env: Replica, capsys: pytest.CaptureFixture[str]
) -> None:
    live_env.aimlapi.set_quirks("no_usage")
    code, rows, _ = doctor(capsys, "--gateway", "aimlapi")
    assert code == 1
    assert rows[("aimlapi", "usage")][0] == "FAIL"
    assert rows[("aimlapi", "stream usage")][0] == "FAIL"
    assert rows[("aimlapi", "cost")][0] == "ok"
    assert "x-aimlapi-usd-spent header" in rows[("aimlapi", "cost")][1]


def test_no_done_on_apipie_is_a_note(live_env: Replica, capsys: pytest.CaptureFixture[str]) -> None:
    live_env.apipie.set_quirks("no_done")
    code, rows, out = doctor(capsys, "--gateway", "apipie", "--model", "hermes-3-llama-3.1-70b")
    assert code == 0, out
    assert rows[("apipie", "[DONE]")][0] == "note"
    assert rows[("apipie", "[DONE]")][1].startswith("not sent")
    assert rows[("apipie", "stream")][0] == "ok"  # the client reads it all the same


def test_a_rejected_key_fails_auth(live_env: Replica, capsys: pytest.CaptureFixture[str]) -> None:
    live_env.apipie.enqueue(Fault.error(401, "Invalid API key"))
    code, rows, _ = doctor(capsys, "--gateway", "apipie")
    assert code == 1
    assert rows[("apipie", "auth")][0] == "FAIL"
    assert "Invalid API key" in rows[("apipie", "auth")][1]
    assert ("apipie", "reply") not in rows  # nothing else is spent after a failed auth


def test_offline_fails_fast_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APIPIE_API_KEY", KEY)
    monkeypatch.setenv("APIPIE_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens on the discard port
    started = time.monotonic()
    code = cli.main(["doctor", "--gateway", "apipie"])
    _, err = capsys.readouterr()
    assert code == 2
    assert time.monotonic() - started < 10
    assert err.startswith("error: cannot reach apipie at http://127.0.0.1:9/v1")
    assert "needs network access" in err
    assert KEY not in err


def test_a_missing_key_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor", "--gateway", "aimlapi"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == "error: doctor needs a key for aimlapi: set AIMLAPI_API_KEY or AIML_API_KEY\n"
    code = cli.main(["doctor"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "APIPIE_API_KEY" in err
    assert "AIMLAPI_API_KEY" in err


def test_record_writes_scrubbed_cassettes(
    live_env: Replica, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, out = doctor(capsys, "--gateway", "aimlapi", "--record", "--record-dir", str(tmp_path))
    assert code == 0, out
    path = tmp_path / "aimlapi.yaml"
    assert f"recorded: {path}" in out
    assert scan_file(path) == []  # the test suite's own secret scan
    text = path.read_text()
    assert KEY not in text
    cassette = json.loads(text)  # JSON is YAML: vcrpy loads it
    interactions = cassette["interactions"]
    assert interactions[0]["request"]["method"] == "GET"
    posts = [i for i in interactions if i["request"]["method"] == "POST"]
    assert len(posts) == len([r for r in live_env.aimlapi.requests if r.method == "POST"])
    assert all(i["request"]["headers"]["authorization"] == ["PLACEHOLDER"] for i in posts)
    assert any("x-aimlapi-usd-spent" in i["response"]["headers"] for i in posts)
