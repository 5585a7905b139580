"""An in-repo replica of the APIpie, AI/ML API and plain OpenAI-compatible gateways, for tests.

It speaks each dialect with the documented quirks, answers from a deterministic rule-based "brain", and
takes scripted faults. It does not import hermes_gateway: it is an independent counterpart of the client.

    with Replica() as replica:
        replica.apipie.enqueue(Fault.rate_limited(retry_after=1), PASS)
        httpx.post(replica.apipie.base_url + "/chat/completions", ...)
        replica.apipie.requests[-1].json
"""

from __future__ import annotations

from ._brain import BrainError, Reply, count_tokens, pieces, think
from ._embeddings import EMBEDDING_MODELS, EMBEDDINGS_PATH, MAX_BATCH, EmbeddingModel, vector
from ._faults import PASS, Fault, http_date
from ._handler import CHAT_PATH, RecordedRequest
from ._models import DIALECTS, MODELS, Dialect, ReplicaModel, find_model
from ._server import Replica, ReplicaServer

__all__ = [
    "CHAT_PATH",
    "DIALECTS",
    "EMBEDDINGS_PATH",
    "EMBEDDING_MODELS",
    "MAX_BATCH",
    "MODELS",
    "PASS",
    "BrainError",
    "Dialect",
    "EmbeddingModel",
    "Fault",
    "RecordedRequest",
    "Replica",
    "ReplicaModel",
    "ReplicaServer",
    "Reply",
    "count_tokens",
    "find_model",
    "http_date",
    "pieces",
    "think",
    "vector",
]
