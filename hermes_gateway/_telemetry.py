"""OpenTelemetry GenAI spans and metrics for model calls (optional: needs `opentelemetry-api`, extra `otel`).

Follows the GenAI semantic conventions as published in `opentelemetry-semantic-conventions` (names checked
against the installed package by the tests; the library itself depends on the API only):

- one `CLIENT` span per call, named `"{gen_ai.operation.name} {gen_ai.request.model}"`, started when the call
  starts sending and ended when the reply ends, fails, or (a stream) is abandoned;
- retries and failover hops are span EVENTS on that span (`hermes_gateway.retry`, `hermes_gateway.failover`),
  not child spans: they are moments in one logical call, and the span's duration is what the caller waited;
- metrics `gen_ai.client.token.usage` (histogram, by `gen_ai.token.type`), `gen_ai.client.operation.duration`
  (histogram, seconds, `error.type` on failure) and `hermes_gateway.client.cost` (counter, USD);
- vendor data under `hermes_gateway.*`: the gateway that served, the upstream provider, the cost;
- prompts and completions only when content capture is switched on: the conventions' setting
  `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (`true`, `SPAN_ONLY` or `SPAN_AND_EVENT`), or
  `configure_telemetry(capture_content=True)`. Never the key: nothing from headers goes on a span.

Cost when off: `instruments()` answers None when no tracer provider and no meter provider are set (the API's
proxy / no-op providers), and the client then does not wrap the call at all: no per-chunk work.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._types import ChatDelta, ChatResult, Usage

logger = logging.getLogger("hermes_gateway")

try:
    from opentelemetry import metrics as otel_metrics
    from opentelemetry import trace as otel_trace
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, SpanKind, Status, StatusCode

    try:  # the proxy handed out before a meter provider is set; private in every API release so far
        from opentelemetry.metrics import _internal as otel_metrics_internal
        from opentelemetry.metrics._internal import _ProxyMeterProvider as ProxyMeterProvider
    except ImportError:  # pragma: no cover - a future API that moved it: then only NoOp counts as "off"
        ProxyMeterProvider = NoOpMeterProvider  # type: ignore[misc,assignment]  # same role, older name
        otel_metrics_internal = None  # type: ignore[assignment]  # then the public getters decide
except ImportError:  # the `otel` extra is not installed: telemetry is off
    otel_trace = None  # type: ignore[assignment]  # a module or None: the off switch

# --- attribute names (GenAI semantic conventions; tests compare them with the installed semconv package) ---
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_ID = "gen_ai.response.id"
FINISH_REASONS = "gen_ai.response.finish_reasons"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
REASONING_TOKENS = "gen_ai.usage.reasoning.output_tokens"
OUTPUT_TYPE = "gen_ai.output.type"
EMBEDDING_DIMENSIONS = "gen_ai.embeddings.dimension.count"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
TOKEN_TYPE = "gen_ai.token.type"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
REQUEST_PARAMS: dict[str, str] = {
    "temperature": "gen_ai.request.temperature",
    "top_p": "gen_ai.request.top_p",
    "max_tokens": "gen_ai.request.max_tokens",
    "stop": "gen_ai.request.stop_sequences",
    "seed": "gen_ai.request.seed",
    "presence_penalty": "gen_ai.request.presence_penalty",
    "frequency_penalty": "gen_ai.request.frequency_penalty",
}
"""`ChatRequest` field → attribute, set only when the caller set the field (top_k and n are handled apart)."""
TOP_K = "gen_ai.request.top_k"
CHOICE_COUNT = "gen_ai.request.choice.count"
STREAM = "gen_ai.request.stream"
# vendor data, namespaced as the conventions ask of attributes they do not define
GATEWAY = "hermes_gateway.gateway"
UPSTREAM_PROVIDER = "hermes_gateway.upstream.provider"
COST_USD = "hermes_gateway.cost.usd"
COST_SOURCE = "hermes_gateway.cost.source"
# metrics
TOKEN_USAGE_METRIC = "gen_ai.client.token.usage"
DURATION_METRIC = "gen_ai.client.operation.duration"
COST_METRIC = "hermes_gateway.client.cost"
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_CAPTURE_ON = frozenset({"true", "span_only", "span_and_event"})
# bucket boundaries the conventions advise for the two histograms
_TOKEN_BUCKETS = [float(4**i) for i in range(14)]
_DURATION_BUCKETS = [0.01 * 2**i for i in range(14)]

_INSTRUMENTATION = "hermes_gateway"
_UNKNOWN = object()
_PROVIDERS_FROM_ENV = bool(
    os.environ.get("OTEL_PYTHON_TRACER_PROVIDER") or os.environ.get("OTEL_PYTHON_METER_PROVIDER")
)
"""The API loads a provider named by these at its first getter call; then the getters must be asked."""
# the API modules' globals, read as dicts: a module attribute read costs ~10x a dict lookup on these modules
_trace_globals: dict[str, Any] = vars(otel_trace) if otel_trace is not None else {}
_meter_globals: dict[str, Any] | None = (
    vars(otel_metrics_internal) if otel_trace is not None and otel_metrics_internal is not None else None
)


@dataclass(frozen=True, slots=True)
class Instruments:
    """A tracer and the three metric instruments of one (tracer provider, meter provider) pair."""

    tracer: Any  # opentelemetry.trace.Tracer, or None when only metrics are on
    token_usage: Any  # Histogram or None
    duration: Any  # Histogram or None
    cost: Any  # Counter or None
    capture_content: bool


@dataclass(slots=True)
class _Settings:
    tracer_provider: Any = None
    meter_provider: Any = None
    capture_content: bool | None = None


_settings = _Settings()
_cache: dict[tuple[int, int], tuple[Any, Any, Instruments]] = {}


def configure_telemetry(
    *, tracer_provider: Any = None, meter_provider: Any = None, capture_content: bool | None = None
) -> None:
    """Use these providers instead of the global ones (`trace.set_tracer_provider`, ...), and force content
    capture on or off (None: the conventions' environment variable decides). No arguments: back to defaults.
    """
    _settings.tracer_provider = tracer_provider
    _settings.meter_provider = meter_provider
    _settings.capture_content = capture_content
    _cache.clear()


def _capture_content() -> bool:
    if _settings.capture_content is not None:
        return _settings.capture_content
    return os.environ.get(CAPTURE_ENV, "").strip().lower() in _CAPTURE_ON


def _nothing_set() -> bool:
    """True when no global provider is set: read from the API's module globals, because the public getters
    cost ~5 us each (an `in os.environ` that raises KeyError inside) and this runs once per model call."""
    if _PROVIDERS_FROM_ENV or _meter_globals is None:
        return False
    return _trace_globals.get("_TRACER_PROVIDER", _UNKNOWN) is None and (
        _meter_globals.get("_METER_PROVIDER", _UNKNOWN) is None
    )


def instruments() -> Instruments | None:
    """The instruments in force, or None when OpenTelemetry is absent or nothing is configured (then calls are
    not observed at all)."""
    if otel_trace is None:
        return None
    settings = _settings
    if settings.tracer_provider is None and settings.meter_provider is None and _nothing_set():
        return None
    tracer_provider = _settings.tracer_provider or otel_trace.get_tracer_provider()
    meter_provider = _settings.meter_provider or otel_metrics.get_meter_provider()
    tracing = not isinstance(tracer_provider, (ProxyTracerProvider, NoOpTracerProvider))
    metering = not isinstance(meter_provider, (ProxyMeterProvider, NoOpMeterProvider))
    if not (tracing or metering):
        return None
    capture = _capture_content()
    key = (id(tracer_provider) if tracing else 0, id(meter_provider) if metering else 0)
    cached = _cache.get(key)
    if cached is not None and cached[2].capture_content == capture:
        return cached[2]
    from . import __version__

    tracer = tracer_provider.get_tracer(_INSTRUMENTATION, __version__) if tracing else None
    token_usage = duration = cost = None
    if metering:
        meter = meter_provider.get_meter(_INSTRUMENTATION, __version__)
        token_usage = meter.create_histogram(
            TOKEN_USAGE_METRIC,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
        )
        duration = meter.create_histogram(
            DURATION_METRIC,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
        )
        cost = meter.create_counter(
            COST_METRIC, unit="USD", description="Cost of model calls in US dollars, as the gateway reported."
        )
    made = Instruments(tracer, token_usage, duration, cost, capture)
    _cache[key] = (tracer_provider, meter_provider, made)  # the providers are kept so their ids stay theirs
    return made


@lru_cache(maxsize=64)
def server_of(base_url: str) -> tuple[str, int]:
    """`server.address` and `server.port` of a base URL (the port defaults by scheme)."""
    url = httpx.URL(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.host, port


def provider_name(gateway: str) -> str:
    """`gen_ai.provider.name`: the gateway's name; a generic OpenAI-compatible server is `openai`, as the
    conventions ask for servers reached through the OpenAI protocol."""
    return gateway


def cost_source(usage: Usage) -> str:
    """ "gateway" when the gateway reported the cost, "catalog" when it is the catalog price."""
    raw = usage.raw
    if raw.get("cost") is not None:
        return "gateway"
    meta = raw.get("meta")
    meta_usage = meta.get("usage") if isinstance(meta, dict) else None
    if isinstance(meta_usage, dict) and meta_usage.get("usd_spent") is not None:
        return "gateway"
    return "catalog"


# --- content capture (opt-in) ------------------------------------------------------------------------------


def _text_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}] if content else []
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append({"type": "text", "content": block.get("text", "")})
            elif isinstance(block, dict):
                parts.append({"type": str(block.get("type", "unknown"))})  # media: the kind, not the bytes
    return parts


def input_messages(messages: list[dict[str, Any]]) -> str:
    """`gen_ai.input.messages`: the caller's messages in the conventions' role/parts JSON shape."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = str(message.get("role", "user"))
        if role == "tool":
            response = message.get("content")
            parts: list[dict[str, Any]] = [
                {"type": "tool_call_response", "id": message.get("tool_call_id"), "response": response}
            ]
        else:
            parts = _text_parts(message.get("content"))
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                parts.append(
                    {
                        "type": "tool_call",
                        "id": call.get("id"),
                        "name": function.get("name"),
                        "arguments": function.get("arguments"),
                    }
                )
        out.append({"role": role, "parts": parts})
    return json.dumps(out, ensure_ascii=False, default=str)


def output_messages(result: ChatResult) -> str:
    """`gen_ai.output.messages`: the reply in the conventions' role/parts JSON shape."""
    parts: list[dict[str, Any]] = []
    if result.reasoning:
        parts.append({"type": "reasoning", "content": result.reasoning})
    if result.content:
        parts.append({"type": "text", "content": result.content})
    for call in result.tool_calls:
        parts.append({"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments})
    message = {"role": "assistant", "parts": parts, "finish_reason": result.finish_reason or "error"}
    return json.dumps([message], ensure_ascii=False)


# --- one call's span and measurements ----------------------------------------------------------------------


def request_attributes(
    request: Mapping[str, Any], operation: str, gateway: str, base_url: str, *, stream: bool
) -> dict[str, Any]:
    """The attributes known before sending: operation, provider, model, sampling parameters, server."""
    host, port = server_of(base_url)
    attributes: dict[str, Any] = {
        OPERATION: operation,
        PROVIDER: provider_name(gateway),
        REQUEST_MODEL: str(request.get("model") or ""),
        SERVER_ADDRESS: host,
        SERVER_PORT: port,
        GATEWAY: gateway,
    }
    if operation == "chat":
        attributes[STREAM] = stream
    elif operation == "embeddings" and isinstance(request.get("dimensions"), int):
        attributes[EMBEDDING_DIMENSIONS] = request["dimensions"]
    for field_name, attribute in REQUEST_PARAMS.items():
        value: Any = request.get(field_name)
        if value is None or isinstance(value, bool):
            continue
        if field_name == "stop":
            value = [value] if isinstance(value, str) else [str(s) for s in value]
        attributes[attribute] = value
    choices = request.get("n")
    if isinstance(choices, int) and choices != 1:
        attributes[CHOICE_COUNT] = choices
    extra = request.get("extra_body") or {}
    if isinstance(extra.get("top_k"), (int, float)) and not isinstance(extra.get("top_k"), bool):
        attributes[TOP_K] = float(extra["top_k"])
    response_format = request.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        attributes[OUTPUT_TYPE] = "json"
    return attributes


def reply_attributes(final: ChatDelta) -> dict[str, Any]:
    """The attributes of a finished reply, from its final delta."""
    attributes: dict[str, Any] = {}
    if final.model:
        attributes[RESPONSE_MODEL] = final.model
    if final.id:
        attributes[RESPONSE_ID] = final.id
    if final.finish_reason:
        attributes[FINISH_REASONS] = [final.finish_reason]
    if final.provider:
        attributes[UPSTREAM_PROVIDER] = final.provider
    usage = final.usage
    if usage is not None:
        attributes[INPUT_TOKENS] = usage.prompt_tokens
        attributes[OUTPUT_TOKENS] = usage.completion_tokens
        if usage.cached_tokens is not None:
            attributes[CACHE_READ_TOKENS] = usage.cached_tokens
        if usage.reasoning_tokens is not None:
            attributes[REASONING_TOKENS] = usage.reasoning_tokens
        if usage.cost_usd is not None:
            attributes[COST_USD] = usage.cost_usd
            attributes[COST_SOURCE] = cost_source(usage)
    return attributes


def error_type(error: BaseException) -> str:
    """`error.type`: the exception's class name (low cardinality, and the same for every gateway)."""
    return type(error).__qualname__


__all__ = [
    "Instruments",
    "SpanKind",
    "Status",
    "StatusCode",
    "configure_telemetry",
    "error_type",
    "input_messages",
    "instruments",
    "output_messages",
    "reply_attributes",
    "request_attributes",
]
