"""`python -m hermes_gateway models --embeddings`: the embedding models per gateway, built-in or live.

Offline: the built-in table (`_embedding_models.EMBEDDING_MODELS`). `--live`: every entry of the gateways'
Models routes that says it is an embedding model (APIpie `type: embedding`; AI/ML API a `type` or tag naming
embeddings), with the table's dimensions and price where the live list leaves them out. DEFAULT marks what
`model=None` uses on that gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._embedding_models import DEFAULT_EMBEDDING_MODEL, EMBEDDING_MODELS, lookup_embedding

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._models_api import LiveModel

COLUMNS = ("MODEL", "GATEWAY", "ID", "DIMENSIONS", "CONTEXT", "IN $/1M", "DEFAULT")
RIGHT = frozenset({"DIMENSIONS", "CONTEXT", "IN $/1M"})


@dataclass(frozen=True, slots=True)
class EmbeddingRow:
    name: str
    gateway: str
    id: str
    dimensions: int | None
    context_window: int | None
    price_per_mtok: float | None
    default: bool
    listed: bool | None = None
    """Live only: whether the gateway lists it today."""

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "gateway": self.gateway,
            "id": self.id,
            "dimensions": self.dimensions,
            "context_window": self.context_window,
            "price_per_mtok": self.price_per_mtok,
            "default": self.default,
        }


def is_embedding(model: LiveModel) -> bool:
    return "embedding" in model.kind


def builtin_rows(gateways: Sequence[str]) -> list[EmbeddingRow]:
    return [
        EmbeddingRow(
            name=info.name,
            gateway=gateway,
            id=model_id,
            dimensions=info.dimensions,
            context_window=info.context_window,
            price_per_mtok=info.price_per_mtok,
            default=DEFAULT_EMBEDDING_MODEL.get(gateway) == model_id,
        )
        for info in EMBEDDING_MODELS
        for gateway, model_id in info.gateway_ids.items()
        if gateway in gateways
    ]


def live_rows(models: Sequence[LiveModel]) -> list[EmbeddingRow]:
    """One row per live embedding entry (one per id and gateway; APIpie lists one entry per provider)."""
    rows: dict[tuple[str, str], EmbeddingRow] = {}
    for model in models:
        if not is_embedding(model) or (model.gateway, model.id) in rows:
            continue
        info = lookup_embedding(model.id)
        rows[(model.gateway, model.id)] = EmbeddingRow(
            name=info.name if info is not None else model.id,
            gateway=model.gateway,
            id=model.id,
            dimensions=info.dimensions if info is not None else None,
            context_window=model.context_window or (info.context_window if info is not None else None),
            price_per_mtok=model.input_per_mtok
            if model.input_per_mtok is not None
            else (info.price_per_mtok if info is not None else None),
            default=DEFAULT_EMBEDDING_MODEL.get(model.gateway) == model.id,
        )
    return list(rows.values())


def _money(price: float | None) -> str:
    if price is None:
        return "-"
    price = round(price, 6)  # live per-token strings x 1e6 carry float noise (0.0999999...)
    return f"{price:.2f}" if price >= 0.1 or price == 0 else f"{price:.3g}"


def _cells(row: EmbeddingRow) -> dict[str, str]:
    return {
        "MODEL": row.name,
        "GATEWAY": row.gateway,
        "ID": row.id,
        "DIMENSIONS": f"{row.dimensions:,}" if row.dimensions else "-",
        "CONTEXT": f"{row.context_window:,}" if row.context_window else "-",
        "IN $/1M": _money(row.price_per_mtok),
        "DEFAULT": "yes" if row.default else "-",
    }


def render(rows: Sequence[EmbeddingRow]) -> str:
    cells = [_cells(r) for r in rows]
    widths = {c: max([len(c), *(len(r[c]) for r in cells)]) for c in COLUMNS}

    def line(values: dict[str, str]) -> str:
        parts = [values[c].rjust(widths[c]) if c in RIGHT else values[c].ljust(widths[c]) for c in COLUMNS]
        return "  ".join(parts).rstrip()

    return "\n".join([line({c: c for c in COLUMNS}), *(line(c) for c in cells)])
