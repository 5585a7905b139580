"""Hermes models on APIpie and AI/ML API: the shared core.

The public surface is what this module names in `__all__`; everything else is private (`_*` modules) and may
change. The adapters (`langchain_hermes`, `llamaindex_hermes`) import only from here: `GatewayClient` (one
route per gateway), the normalised types, the configuration checks (`resolve_routes`, `check_options`,
`check_call_options`, ...) and the catalog. docs/architecture.md documents every name.
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
from ._config import (
    GATEWAY_NAMES,
    Route,
    check_base_url,
    check_call_options,
    check_gateway_name,
    check_options,
    clean_key,
    env_key,
    gateway_field,
    per_gateway,
    resolve_routes,
    split_gateways,
)
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._embedding_models import (
    DEFAULT_EMBEDDING_MODEL,
    EMBEDDING_MODELS,
    EmbeddingModelInfo,
    lookup_embedding,
)
from ._embedding_wire import DEFAULT_MAX_CONCURRENCY as EMBEDDING_MAX_CONCURRENCY
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
    InvalidAPIKeyError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    VisionNotSupportedError,
)
from ._features import FEATURE_OPTIONS, APIpieMemory
from ._gateways import DIALECTS, Dialect, get_dialect, json_mode_via_prompt
from ._guards import estimate_prompt_tokens
from ._hermes_parser import HermesTextParser
from ._json_mode import extract_json, json_schema_system_prompt
from ._request import REQUEST_FIELDS, merge_call_options
from ._retry import RetryPolicy, is_retryable
from ._stream import AsyncChatStream, ChatStream
from ._telemetry import configure_telemetry
from ._tokens import count_message_tokens, count_text_tokens, split_text_tokens
from ._tool_calls import judge_arguments
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
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DIALECTS",
    "EMBEDDING_MAX_CONCURRENCY",
    "EMBEDDING_MODELS",
    "FEATURE_OPTIONS",
    "GATEWAY_NAMES",
    "REQUEST_FIELDS",
    "APIConnectionError",
    "APITimeoutError",
    "APIpieMemory",
    "AsyncChatStream",
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
    "GatewayClient",
    "GatewayError",
    "GatewayName",
    "HermesModelDeprecatedWarning",
    "HermesTextParser",
    "InsufficientCreditsError",
    "InvalidAPIKeyError",
    "InvalidEmbeddingInputError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "ModelInfo",
    "NotFoundError",
    "RateLimitError",
    "RetryPolicy",
    "Route",
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
    "check_base_url",
    "check_call_options",
    "check_gateway_name",
    "check_options",
    "clean_key",
    "configure_telemetry",
    "count_message_tokens",
    "count_text_tokens",
    "env_key",
    "estimate_prompt_tokens",
    "extract_json",
    "gateway_field",
    "get_dialect",
    "is_retryable",
    "json_mode_via_prompt",
    "json_schema_system_prompt",
    "judge_arguments",
    "lookup",
    "lookup_embedding",
    "merge_call_options",
    "per_gateway",
    "resolve_model_id",
    "resolve_routes",
    "spending_cap",
    "split_gateways",
    "split_text_tokens",
    "use_budget",
    "warn_if_deprecated",
]
