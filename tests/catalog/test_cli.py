"""`python -m hermes_gateway models`: the offline table, per-gateway filter, JSON, --live and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import hermes_gateway.__main__ as cli
from hermes_gateway._catalog import BUILTIN_MODELS
from hermes_gateway._exceptions import APIConnectionError
from hermes_gateway._models_api import LiveModel, ModelsCache, fetch_models

DATA = Path(__file__).parent / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> tuple[str, list[str]]:
    header, *rows = out.rstrip("\n").split("\n")
    return header, rows


def test_offline_table_lists_every_model_per_gateway(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0
    assert err == ""
    header, rows = rows_of(out)
    assert header.split()[:3] == ["MODEL", "GATEWAY", "ID"]
    expected_rows = sum(len(m.gateway_ids) or 1 for m in BUILTIN_MODELS)
    assert len(rows) == expected_rows == 16
    for info in BUILTIN_MODELS:
        assert any(row.startswith(info.name + " ") for row in rows)
    # aligned: each column starts at the same offset on every line
    id_at, context_end = header.index("ID"), header.index("CONTEXT") + len("CONTEXT")
    for row in rows:
        assert row[id_at - 1] == " "
        assert row[id_at] != " "
        assert row[context_end - 1].isdigit()  # right-aligned numbers
        assert row[context_end] == " "


def test_offline_table_cells(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys)
    lines = {tuple(line.split()[:2]): line for line in out.splitlines()[1:]}
    mixtral = lines[("nous-hermes-2-mixtral-8x7b-dpo", "aimlapi")]
    assert "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO" in mixtral
    assert "32,768" in mixtral
    assert mixtral.endswith("DEPRECATED 2025-09-09 -> nousresearch/hermes-3-llama-3.1-70b")
    assert "DEPRECATED" not in lines[("nous-hermes-2-mixtral-8x7b-dpo", "apipie")]
    hermes4 = lines[("hermes-4-405b", "aimlapi")].split()
    assert hermes4[2:] == [
        "nousresearch/hermes-4-405b",
        "131,072",
        "131,072",
        "-",
        "-",
        "prompt+native?",  # AI/ML API declares tools for it; unconfirmed, so auto mode uses the prompt
        "-",
        "yes",
    ]
    assert lines[("hermes-4-405b", "apipie")].split()[7] == "prompt"
    vision = lines[("nous-hermes-2-vision-7b", "apipie")].split()
    assert vision[3:] == ["4,096", "4,096", "-", "-", "-", "yes", "-"]
    assert lines[("hermes-3-llama-3.1-8b", "local")].split()[2] == "NousResearch/Hermes-3-Llama-3.1-8B"


def test_gateway_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--gateway", "aimlapi")
    assert code == 0
    _, rows = rows_of(out)
    assert [row.split()[1] for row in rows] == ["aimlapi"] * 5
    assert "nous-hermes-llama2-13b" not in out


def test_unknown_gateway_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["models", "--gateway", "nowhere"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json")
    assert code == 0
    models = json.loads(out)
    assert [m["name"] for m in models] == [m.name for m in BUILTIN_MODELS]
    mixtral = next(m for m in models if m["name"] == "nous-hermes-2-mixtral-8x7b-dpo")
    assert mixtral["deprecations"]["aimlapi"] == {
        "date": "2025-09-09",
        "message": "AI/ML API no longer serves this model; requests to it fail",
        "replacement": "nousresearch/hermes-3-llama-3.1-70b",
    }
    assert mixtral["tool_roles"]["aimlapi"] == "user"
    assert mixtral["prices_per_mtok"] == {}
    assert mixtral["providers"]["apipie"] == ["openrouter", "together"]
    code, out, _ = run(capsys, "--json", "--gateway", "aimlapi")
    assert len(json.loads(out)) == 5


def serve_fixtures(monkeypatch: pytest.MonkeyPatch, *, fail: str | None = None) -> list[str]:
    """Route the CLI's fetches through the real fetcher to a MockTransport serving the fixture files."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if fail and fail in request.url.host:
            raise httpx.ConnectError("connection refused", request=request)
        name = "aimlapi_models.json" if "aimlapi" in request.url.host else "apipie_models.json"
        return httpx.Response(200, content=(DATA / name).read_bytes(), headers={"etag": '"x"'})

    def fetch(gateway: str, **kwargs: Any) -> list[LiveModel]:
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            return fetch_models(gateway, http_client=client, cache=ModelsCache())

    monkeypatch.setattr(cli, "fetch_models", fetch)
    return asked


def test_live_table_merges_the_gateway_lists(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = serve_fixtures(monkeypatch)
    code, out, err = run(capsys, "--live")
    assert code == 0, err
    assert asked == ["https://apipie.ai/v1/models", "https://api.aimlapi.com/v1/models?include=all"]
    lines = {tuple(line.split()[:2]): line for line in out.splitlines()[1:]}
    hermes3 = lines[("hermes-3-llama-3.1-70b", "apipie")].split()
    assert hermes3[3:8] == ["65,536", "65,536", "0.12", "0.30", "prompt"]
    assert lines[("hermes-3-llama-3.1-70b", "apipie")].endswith("listed")
    assert lines[("hermes-4-70b", "aimlapi")].split()[3:8] == [
        "131,072",
        "65,536",
        "0.13",
        "0.40",
        "prompt+native?",  # the list declares tools: a claim, not a confirmation
    ]
    # each row carries its own gateway's limits: APIpie's 65,536 provider does not shrink the AI/ML API row
    assert lines[("hermes-3-llama-3.1-70b", "aimlapi")].split()[3:8] == [
        "131,072",
        "131,072",
        "-",
        "-",
        "prompt",
    ]
    assert lines[("hermes-4-70b", "apipie")].split()[3:5] == ["131,072", "131,072"]
    assert lines[("hermes-2-pro-llama-3-8b", "apipie")].endswith("not listed")
    assert lines[("nous-hermes-2-mixtral-8x7b-dpo", "aimlapi")].endswith(
        "DEPRECATED 2025-09-09 -> nousresearch/hermes-3-llama-3.1-70b; not listed"
    )
    assert ("deephermes-3-llama-3-8b-preview", "apipie") in lines  # a Hermes model the catalog does not know
    assert "gpt-4o" not in out  # not Hermes


def test_live_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(monkeypatch)
    code, out, _ = run(capsys, "--live", "--json", "--gateway", "apipie")
    assert code == 0
    models = {m["name"]: m for m in json.loads(out)}
    assert models["hermes-4-405b"]["prices_per_mtok"] == {"apipie": {"input": 1.0, "output": 3.0}}
    assert models["hermes-3-llama-3.1-70b"]["providers"]["apipie"] == ["openrouter", "deepinfra"]
    assert models["hermes-3-llama-3.1-70b"]["listed_on"] == ["apipie"]
    assert "deephermes-3-llama-3-8b-preview" in models


def test_live_failure_is_one_clean_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_fixtures(monkeypatch, fail="aimlapi")
    code, out, err = run(capsys, "--live")
    assert code == 1
    assert out == ""
    assert err.startswith("error: could not fetch the aimlapi model list: could not reach aimlapi")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_live_failure_of_an_unexpected_kind(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fetch(gateway: str, **kwargs: Any) -> list[LiveModel]:
        raise APIConnectionError("timed out", gateway=gateway)

    monkeypatch.setattr(cli, "fetch_models", fetch)
    code, _, err = run(capsys, "--live", "--gateway", "apipie")
    assert code == 1
    assert err == "error: could not fetch the apipie model list: timed out (apipie)\n"


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hermes_gateway", "models", "--json", "--gateway", "apipie"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 10
