"""The built-in embedding model table: ids per gateway, dimensions, context, price, each gateway's default.

Facts from the gateways' docs (APIpie `docs/api/Embeddings`, AI/ML API `api-references/embedding-models`) and
OpenAI's model cards. Live lists (`_models_api`) add what a gateway serves today; this table only fills in
what the live lists leave out (dimensions, prices) and picks the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class EmbeddingModelInfo:
    name: str
    gateway_ids: Mapping[str, str]
    dimensions: int
    context_window: int
    """Tokens per input."""
    price_per_mtok: float | None = None
    """USD per 1M input tokens (used only when a gateway reports no cost)."""
    adjustable_dimensions: bool = False
    """Takes the `dimensions` request field (OpenAI text-embedding-3)."""


EMBEDDING_MODELS: tuple[EmbeddingModelInfo, ...] = (
    EmbeddingModelInfo(
        "text-embedding-3-small",
        {"apipie": "text-embedding-3-small", "aimlapi": "text-embedding-3-small"},
        1536,
        8191,
        0.02,
        adjustable_dimensions=True,
    ),
    EmbeddingModelInfo(
        "text-embedding-3-large",
        {"apipie": "text-embedding-3-large", "aimlapi": "text-embedding-3-large"},
        3072,
        8191,
        0.13,
        adjustable_dimensions=True,
    ),
    EmbeddingModelInfo(
        "text-embedding-ada-002",
        {"apipie": "text-embedding-ada-002", "aimlapi": "text-embedding-ada-002"},
        1536,
        8191,
        0.10,
    ),
    EmbeddingModelInfo("bge-base-en-v1.5", {"aimlapi": "BAAI/bge-base-en-v1.5"}, 768, 512),
)

DEFAULT_EMBEDDING_MODEL: dict[str, str | None] = {
    "apipie": "text-embedding-3-small",
    "aimlapi": "text-embedding-3-small",
    "openai": None,
}
"""What `model=None` means per gateway: OpenAI's small model on both gateways (cheap, 1536 dimensions,
`dimensions` adjustable); a local server has no sensible default (name yours, e.g. `nomic-embed-text`)."""


def lookup_embedding(name_or_id: str) -> EmbeddingModelInfo | None:
    """The table's row for a name or any gateway's id (case-insensitive)."""
    wanted = name_or_id.lower()
    for info in EMBEDDING_MODELS:
        if info.name.lower() == wanted or any(i.lower() == wanted for i in info.gateway_ids.values()):
            return info
    return None


def embedding_model_id(name: str, gateway: str) -> str:
    """The id to send on `gateway`; names the table does not know pass through unchanged."""
    info = lookup_embedding(name)
    if info is None:
        return name
    return info.gateway_ids.get(gateway, name)
