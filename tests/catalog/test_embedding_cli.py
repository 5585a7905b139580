"""`python -m hermes_gateway models --embeddings`: the built-in table, JSON, --live against the replica."""

from __future__ import annotations

import json
from typing import Any

import pytest

import hermes_gateway.__main__ as cli
from hermes_gateway import EMBEDDING_MODELS
from hermes_gateway._models_api import LiveModel, ModelsCache, fetch_models
from tests.replica import EMBEDDING_MODELS as REPLICA_EMBEDDING_MODELS
from tests.replica import Replica


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["models", "--embeddings", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_offline_table_has_every_model_and_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    header, *rows = out.rstrip("\n").split("\n")
    assert header.split() == ["MODEL", "GATEWAY", "ID", "DIMENSIONS", "CONTEXT", "IN", "$/1M", "DEFAULT"]
    assert len(rows) == sum(len(m.gateway_ids) for m in EMBEDDING_MODELS)
    cells = {tuple(r.split()[:2]): r.split() for r in rows}
    assert cells[("text-embedding-3-small", "apipie")][3:] == ["1,536", "8,191", "0.02", "yes"]
    assert cells[("text-embedding-3-large", "aimlapi")][3:] == ["3,072", "8,191", "0.13", "-"]
    assert [r.split()[1] for r in rows if r.endswith("yes")] == ["apipie", "aimlapi"]


def test_gateway_filter_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--gateway", "aimlapi", "--json")
    assert code == 0
    models = json.loads(out)
    assert {m["gateway"] for m in models} == {"aimlapi"}
    bge = next(m for m in models if m["id"] == "BAAI/bge-base-en-v1.5")
    assert bge["dimensions"] == 768
    assert bge["context_window"] == 512
    assert bge["default"] is False


def test_live_lists_what_each_gateway_serves(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, replica: Replica
) -> None:
    def fetch(gateway: str, **kwargs: Any) -> list[LiveModel]:
        return fetch_models(gateway, base_url=replica[gateway].base_url, cache=ModelsCache())

    monkeypatch.setattr(cli, "fetch_models", fetch)
    code, out, err = run(capsys, "--live", "--json")
    assert code == 0, err
    listed = {(m["gateway"], m["id"]) for m in json.loads(out)}
    expected = {(g, m.id) for g in ("apipie", "aimlapi") for m in REPLICA_EMBEDDING_MODELS[g]}
    assert listed == expected  # every embedding entry, and no chat model
