"""Hermes models on APIpie and AI/ML API: the shared core.

The public surface is what this module names in `__all__`; everything else is private (`_*` modules) and may
change. Adapters (`langchain_hermes`, `llamaindex_hermes`) build on `GatewayClient` and the normalised types.
"""

from __future__ import annotations

from ._accumulator import StreamAccumulator
from ._catalog import ModelInfo, lookup, resolve_model_id
from ._client import GatewayClient, UsageHook
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from ._gateways import DIALECTS, Dialect, get_dialect
from ._hermes_parser import HermesTextParser
from ._retry import RetryPolicy
from ._stream import AsyncChatStream, ChatStream
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
    "DIALECTS",
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
    "Dialect",
    "GatewayClient",
    "GatewayError",
    "GatewayName",
    "HermesTextParser",
    "InsufficientCreditsError",
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
    "Usage",
    "UsageHook",
    "__version__",
    "get_dialect",
    "lookup",
    "resolve_model_id",
]
