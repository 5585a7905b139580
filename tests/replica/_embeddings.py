"""`POST /v1/embeddings` in each dialect: the embedding models, validation, batch limits, vectors and usage.

Vectors are a deterministic hashed bag of words (each lower-cased word hashed into one of the model's
dimensions, L2-normalised), so texts that share words get similar vectors and retrieval over a handful of
documents picks the right one. This is the project's one copy of the hashed toy embedding: the examples and
tests use it only through the replica (or the cassettes recorded against it).

Dialect quirks (shared/reference/gateways.md and the gateways' own docs):
- APIpie: usage adds `prompt_characters`, `cost` as a STRING and `latency_ms`, and the body has `provider`;
  `encoding_format` beyond `float` only for OpenAI-served models.
- AI/ML API: every error is "Body validation error!" (400); unknown fields are refused (the spec says
  `additionalProperties: false`); cost in `meta.usage.usd_spent` for some models and always in the
  `x-aimlapi-usd-spent` header; success is 201, as its spec declares.
- openai (a local server): plain OpenAI shape, no cost.
A batch larger than `MAX_BATCH[dialect]` is a 400, as is an empty string in the input.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from ._models import Dialect

EMBEDDINGS_PATH = "/v1/embeddings"

MAX_BATCH: dict[Dialect, int] = {"apipie": 512, "aimlapi": 512, "openai": 2048}
"""Inputs per request each dialect's replica accepts (the client's documented defaults)."""

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    id: str
    dimensions: int
    provider: str = "openai"
    matryoshka: bool = False
    """Takes `dimensions` (OpenAI text-embedding-3-*)."""
    context_length: int = 8191
    cost_per_m: float = 0.02
    base64: bool = True
    """Serves `encoding_format: "base64"` (APIpie: only OpenAI-served models)."""
    meta_cost: bool = True
    """AI/ML API: cost in `meta.usage.usd_spent` (always in the header too)."""


EMBEDDING_MODELS: dict[Dialect, tuple[EmbeddingModel, ...]] = {
    "apipie": (
        EmbeddingModel("text-embedding-3-small", 1536, matryoshka=True),
        EmbeddingModel("text-embedding-3-large", 3072, matryoshka=True, cost_per_m=0.13),
        EmbeddingModel("text-embedding-ada-002", 1536, cost_per_m=0.1),
        EmbeddingModel("bge-large-en-v1.5", 1024, provider="deepinfra", context_length=512, base64=False),
    ),
    "aimlapi": (
        EmbeddingModel("text-embedding-3-small", 1536, matryoshka=True),
        EmbeddingModel("text-embedding-3-large", 3072, matryoshka=True, cost_per_m=0.13),
        EmbeddingModel("text-embedding-ada-002", 1536, cost_per_m=0.1),
        EmbeddingModel(
            "BAAI/bge-base-en-v1.5", 768, provider="together", context_length=512, meta_cost=False
        ),
    ),
    "openai": (
        EmbeddingModel("nomic-embed-text", 768, provider="ollama", matryoshka=True, cost_per_m=0.0),
        EmbeddingModel("BAAI/bge-small-en-v1.5", 384, provider="vllm", context_length=512, cost_per_m=0.0),
    ),
}


def find_embedding_model(dialect: Dialect, model_id: str) -> EmbeddingModel | None:
    for model in EMBEDDING_MODELS[dialect]:
        if model.id == model_id or (dialect == "aimlapi" and model.id.lower() == model_id.lower()):
            return model
    return None


class EmbeddingError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def vector(text: str, dimensions: int) -> list[float]:
    """The hashed bag of words of `text` in `dimensions` buckets, L2-normalised (all zeros stay zeros)."""
    values = [0.0] * dimensions
    for word in _WORD.findall(text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dimensions
        values[bucket] += 1.0
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def _tokens(text: str) -> int:
    return max(1, len(_WORD.findall(text))) if text else 0


def _check(dialect: Dialect, body: Any) -> tuple[EmbeddingModel, list[str], int, str]:
    """The model, inputs, dimensions and encoding of a valid request; EmbeddingError otherwise."""
    aiml = dialect == "aimlapi"

    def bad(message: str, code: str = "invalid_request") -> EmbeddingError:
        return EmbeddingError(400, "Body validation error!" if aiml else message, code)

    if not isinstance(body, dict):
        raise bad("Request body must be a JSON object")
    if aiml:
        extra = sorted(set(body) - {"model", "input", "encoding_format", "dimensions"})
        if extra:
            raise bad(f"unknown fields {extra}")
    model_id = body.get("model")
    if not isinstance(model_id, str) or not model_id:
        raise bad("model is required")
    model = find_embedding_model(dialect, model_id)
    if model is None:
        raise EmbeddingError(404, f"The model `{model_id}` does not exist.", "model_not_found")
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs:
        raise bad("'input' must be a non-empty string or a non-empty array of strings")
    if not all(isinstance(item, str) for item in inputs):
        raise bad("'$.input' is invalid: every item must be a string")
    if any(item == "" for item in inputs):
        raise bad("'$.input' is invalid: input cannot be an empty string")
    limit = MAX_BATCH[dialect]
    if len(inputs) > limit:
        raise bad(f"'$.input' is too long: at most {limit} inputs per request, got {len(inputs)}")
    too_long = [i for i, text in enumerate(inputs) if _tokens(text) > model.context_length]
    if too_long:
        raise bad(
            f"This model's maximum context length is {model.context_length} tokens, "
            f"however input {too_long[0]} is longer",
            "context_length_exceeded",
        )
    dims = body.get("dimensions")
    if dims is None:
        dims = model.dimensions
    elif not model.matryoshka:
        raise bad("This model does not support specifying dimensions.")
    elif not isinstance(dims, int) or isinstance(dims, bool) or not 1 <= dims <= model.dimensions:
        raise bad(f"dimensions must be an integer between 1 and {model.dimensions}")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64") or (encoding == "base64" and not model.base64):
        raise bad(f"encoding_format {encoding!r} is not supported for {model.id}")
    return model, inputs, dims, encoding


def _encode(values: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return values
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def embeddings_reply(dialect: Dialect, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, JSON body, extra headers) for a request; EmbeddingError for a refused one."""
    model, inputs, dims, encoding = _check(dialect, body)
    data = [
        {"object": "embedding", "index": i, "embedding": _encode(vector(text, dims), encoding)}
        for i, text in enumerate(inputs)
    ]
    tokens = sum(_tokens(text) for text in inputs)
    cost = tokens * model.cost_per_m / 1e6
    usage: dict[str, Any] = {"prompt_tokens": tokens, "total_tokens": tokens}
    reply: dict[str, Any] = {"object": "list", "data": data, "model": model.id, "usage": usage}
    headers: dict[str, str] = {}
    status = 200
    if dialect == "apipie":
        reply["provider"] = model.provider
        usage.update(
            prompt_characters=sum(len(t) for t in inputs), cost=f"{cost:.10f}", latency_ms=40 + len(inputs)
        )
    elif dialect == "aimlapi":
        status = 201
        headers = {"x-aimlapi-usd-spent": f"{cost:.10f}", "x-aimlapi-credits-used": str(round(cost * 2e6))}
        if model.meta_cost:
            reply["meta"] = {"usage": {"credits_used": round(cost * 2e6), "usd_spent": cost}}
    return status, reply, headers


def embedding_models_apipie() -> list[dict[str, Any]]:
    """APIpie model-list rows (`type: embedding`) for the replica's embedding models."""
    return [
        {
            "id": m.id,
            "model": m.id,
            "provider": m.provider,
            "type": "embedding",
            "subtype": "embedding",
            "route": m.id,
            "description": f"{m.id} ({m.dimensions} dimensions)",
            "enabled": 1,
            "available": 1,
            "avg_cost": f"{m.cost_per_m / 1e6:.10f}",
            "input_cost": f"{m.cost_per_m / 1e6:.10f}",
            "output_cost": "0",
            "price_type": "token",
            "latency": 120,
            "query_count": 5000,
            "max_tokens": m.context_length,
            "max_response_tokens": 0,
            "dimensions": m.dimensions,
        }
        for m in EMBEDDING_MODELS["apipie"]
    ]


def embedding_models_aimlapi() -> list[dict[str, Any]]:
    """AI/ML API model-list entries (`type: embedding`) for the replica's embedding models."""
    return [
        {
            "id": m.id,
            "aliases": [],
            "type": "embedding",
            "info": {
                "name": m.id,
                "developer": "OpenAI" if m.provider == "openai" else "BAAI",
                "contextLength": m.context_length,
            },
            "features": ["embedding"],
            "tags": ["embedding"],
        }
        for m in EMBEDDING_MODELS["aimlapi"]
    ]
