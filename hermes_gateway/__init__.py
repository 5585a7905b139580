"""Hermes models on APIpie and AI/ML API: the shared core.

The public surface is what this module names in `__all__`; everything else is private (`_*` modules) and may
change. The adapters (`langchain_hermes`, `llamaindex_hermes`) import only from here: `GatewayClient` (one
route per gateway), the normalised types, the configuration checks (`resolve_routes`, `check_options`,
`check_call_options`, ...) and the catalog. docs/architecture.md documents every name.
"""

from __future__ import annotations

from ._accumulator import StreamAccumulator
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
    per_gateway,
    resolve_routes,
    split_gateways,
)
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
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
from ._gateways import DIALECTS, Dialect, get_dialect, json_mode_via_prompt
from ._guards import estimate_prompt_tokens
from ._hermes_parser import HermesTextParser
from ._json_mode import extract_json, json_schema_system_prompt
from ._request import REQUEST_FIELDS, merge_call_options
from ._retry import RetryPolicy
from ._stream import AsyncChatStream, ChatStream
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
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "DIALECTS",
    "GATEWAY_NAMES",
    "REQUEST_FIELDS",
    "APIConnectionError",
    "APITimeoutError",
    "AsyncChatStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatDelta",
    "ChatRequest",
    "ChatResult",
    "ChatStream",
    "ContextWindowExceededError",
    "Deprecation",
    "Dialect",
    "GatewayClient",
    "GatewayError",
    "GatewayName",
    "HermesModelDeprecatedWarning",
    "HermesTextParser",
    "InsufficientCreditsError",
    "InvalidAPIKeyError",
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
    "Usage",
    "UsageHook",
    "VisionNotSupportedError",
    "__version__",
    "check_base_url",
    "check_call_options",
    "check_gateway_name",
    "check_options",
    "clean_key",
    "env_key",
    "estimate_prompt_tokens",
    "extract_json",
    "get_dialect",
    "json_mode_via_prompt",
    "json_schema_system_prompt",
    "judge_arguments",
    "lookup",
    "merge_call_options",
    "per_gateway",
    "resolve_model_id",
    "resolve_routes",
    "split_gateways",
    "warn_if_deprecated",
]
