"""Hermes models on APIpie and AI/ML API: the shared core.

The public surface is what this module names in `__all__`; everything else is private (`_*` modules) and may
change. Adapters (`langchain_hermes`, `llamaindex_hermes`) build on `create_client` (a `GatewayClient`, or a
`FailoverClient` for several gateways) and the normalised types.
"""

from __future__ import annotations

from ._accumulator import StreamAccumulator
from ._budget import Budget, UnknownCost, spending_cap, use_budget
from ._catalog import (
    CATALOG_GATEWAYS,
    Deprecation,
    HermesModelDeprecatedWarning,
    ModelInfo,
    lookup,
    resolve_model_id,
    warn_if_deprecated,
)
from ._client import GatewayClient, UsageHook
from ._embedding_models import (
    DEFAULT_EMBEDDING_MODEL,
    EMBEDDING_MODELS,
    EmbeddingModelInfo,
    lookup_embedding,
)
from ._embedding_wire import EmbeddingResult, InvalidEmbeddingInputError
from ._embeddings import EmbeddingsClient
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ContextWindowExceededError,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    VisionNotSupportedError,
)
from ._failover import AsyncFailoverChatStream, FailoverChatStream, FailoverClient, create_client
from ._features import APIpieMemory
from ._gateways import DIALECTS, Dialect, get_dialect
from ._guards import estimate_prompt_tokens
from ._hermes_parser import HermesTextParser
from ._json_mode import extract_json, json_schema_system_prompt
from ._retry import RetryPolicy, is_retryable
from ._stream import AsyncChatStream, ChatStream
from ._telemetry import configure_telemetry
from ._tokens import count_message_tokens, count_text_tokens, split_text_tokens
from ._types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    GatewayName,
    ToolCall,
    ToolCallDelta,
    ToolMode,
    Usage,
)

__version__ = "0.1.0"

__all__ = [
    "CATALOG_GATEWAYS",
    "DEFAULT_EMBEDDING_MODEL",
    "DIALECTS",
    "EMBEDDING_MODELS",
    "APIConnectionError",
    "APITimeoutError",
    "APIpieMemory",
    "AsyncChatStream",
    "AsyncFailoverChatStream",
    "AuthenticationError",
    "BadRequestError",
    "Budget",
    "BudgetExceededError",
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "ContextWindowExceededError",
    "Deprecation",
    "Dialect",
    "EmbeddingModelInfo",
    "EmbeddingResult",
    "EmbeddingsClient",
    "FailoverChatStream",
    "FailoverClient",
    "GatewayClient",
    "GatewayError",
    "GatewayName",
    "HermesModelDeprecatedWarning",
    "HermesTextParser",
    "InsufficientCreditsError",
    "InvalidEmbeddingInputError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotFoundError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "StreamAccumulator",
    "StreamInterruptedError",
    "ToolCall",
    "ToolCallDelta",
    "ToolMode",
    "UnknownCost",
    "Usage",
    "UsageHook",
    "VisionNotSupportedError",
    "__version__",
    "configure_telemetry",
    "count_message_tokens",
    "count_text_tokens",
    "create_client",
    "estimate_prompt_tokens",
    "extract_json",
    "get_dialect",
    "is_retryable",
    "json_schema_system_prompt",
    "lookup",
    "lookup_embedding",
    "resolve_model_id",
    "spending_cap",
    "split_text_tokens",
    "use_budget",
    "warn_if_deprecated",
]
