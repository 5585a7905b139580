"""`models --live` against the replica, which serves both gateways' model lists in their live shapes.

APIpie: flat `/v1/models` with per-token price strings, plus an old-shape entry without `id`. AI/ML API:
`?include=all` with price units in the live `origin` shape (per 1M and per 1000 tokens) and the documented
`measure` shape (gateways.md Corrections). Both gateways' rows must show prices in USD per 1M tokens.
"""

from __future__ import annotations

import pytest

import hermes_gateway.__main__ as cli
from hermes_gateway._models_api import clear_cache
from tests.replica import MODELS, Replica


def test_models_live_shows_prices_for_both_gateways(
    replica: Replica, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, url in replica.env().items():
        monkeypatch.setenv(name, url)
    clear_cache()
    assert cli.main(["models", "--live"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = {tuple(line.split()[:2]): line.split() for line in out.splitlines()[1:]}
    for gateway in ("apipie", "aimlapi"):
        for served in MODELS[gateway]:  # type: ignore[index]
            if served.deprecated:
                continue
            key = next((k for k, row in rows.items() if k[1] == gateway and row[2] == served.id), None)
            assert key is not None, f"{served.id} missing on {gateway}"
            price_in, price_out = rows[key][5:7]
            assert float(price_in) == pytest.approx(served.input_cost_per_m, abs=0.005), served.id
            assert float(price_out) == pytest.approx(served.output_cost_per_m, abs=0.005), served.id
    clear_cache()
