"""Request building: `ChatRequest` → the JSON body one gateway gets. Pure, shared by the sync and async paths.

Steps, in order:
1. the model name → the gateway's id, from the catalog entry the client looked up once for the request;
2. `tool_mode`: "native" sends `tools` as given; "hermes" renders the tools into the system prompt and the
   tool history as Hermes text (`_hermes_prompt.to_hermes_messages`) and sends NO `tools`, `tool_choice` or
   `parallel_tool_calls`; "auto" is native unless the catalog says the model has no native tools there;
3. JSON mode, decided here per route from the dialect: a JSON `response_format` is sent where the gateway
   takes it (and the request has no tools in the Hermes prompt format); otherwise it is dropped and the
   schema goes into the Hermes `<schema>` system prompt. A `json_object` request with a schema
   (`json_schema`, LangChain's `json_mode` with a schema) gets the prompt as well, so the schema always
   reaches the model;
4. `extra_body` merged (gateway extensions: APIpie `provider`, `routing`, ...; AI/ML API `min_p`, ...);
5. streaming: `stream: true` and `stream_options: {"include_usage": true}` where the gateway accepts it (the
   method called decides `stream`, whatever the body says);
6. fields set to None, and fields the gateway is known to reject (`_gateways.Dialect.drop_rules`), dropped
   with a debug log, instead of being sent into a 400;
7. the guards (`_guards.check_request`), on the body as it would be sent: images to a text-only model, or a
   prompt clearly over the model's context window, raise here — before any I/O.

The caller's request, messages and tools are never mutated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import _hints
from ._catalog import ModelInfo, model_id_on
from ._exceptions import BadRequestError
from ._features import multi_model_id, normalise_extensions
from ._gateways import Dialect, apply_drop_rules
from ._guards import check_request
from ._hermes_prompt import to_hermes_messages
from ._json_mode import json_schema_system_prompt, schema_from_response_format, with_system_prompt
from ._types import ChatRequest, ToolMode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

logger = logging.getLogger("hermes_gateway")

TOOL_MODES: frozenset[str] = frozenset({"auto", "native", "hermes"})
PROMPT_MODE_DROPS = ("tools", "tool_choice", "parallel_tool_calls")
"""Fields never sent in prompt mode: the tools are in the system prompt instead."""
STANDARD_PARAMS: frozenset[str] = frozenset(
    {
        *ChatRequest.__annotations__,
        "stream",
        "user",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "max_completion_tokens",
        "metadata",
        "store",
        "service_tier",
        "modalities",
        "functions",
        "function_call",
    }
)
"""OpenAI's own fields: anything else in `extra_body` is a gateway extension (logged when not a known one)."""
REQUEST_FIELDS: frozenset[str] = frozenset(ChatRequest.__annotations__) - {"model", "messages", "extra_body"}
CORE_ONLY_FIELDS = ("extra_body", "stream", "json_schema", "starts_in_reasoning")
"""`ChatRequest` fields that steer the core and are never sent as they are."""
"""The per-call options that are top-level `ChatRequest` fields (temperature, tools, response_format, ...)."""


def merge_call_options(request: dict[str, Any], extra: dict[str, Any], options: Mapping[str, Any]) -> None:
    """Per-call options into a request being built, for the adapters (their kwargs / additional_kwargs).

    `ChatRequest` fields go to the top level, an `extra_body` mapping and every other key (a gateway
    extension such as APIpie `provider` or AI/ML API `min_p`) into `extra`. None means "not given": skipped.
    """
    for key, value in options.items():
        if value is None:
            continue
        if key in REQUEST_FIELDS:
            request[key] = value
        elif key == "extra_body":
            extra.update(value)
        else:
            extra[key] = value


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request ready to send, and what the reply pipeline needs to know about it."""

    body: dict[str, Any]
    model: str
    """The model id sent to the gateway."""
    info: ModelInfo | None
    tool_mode: Literal["native", "hermes"]
    has_tools: bool
    """The request carried tools (either mode): `<tool_call>` text in the reply becomes tool calls."""
    stream: bool
    tool_names: frozenset[str] = frozenset()
    """The names of the tools offered: a ```json fence in the reply naming one of them is a call."""
    starts_in_reasoning: bool = False
    """The reply starts inside `<think>` (the request's `starts_in_reasoning`, else the catalog's)."""
    requested_model: str = ""
    """The model as the caller named it (before resolution): error hints suggest names close to it."""


def resolve_tool_mode(tool_mode: str, info: ModelInfo | None, gateway: str) -> Literal["native", "hermes"]:
    """ "auto" → native, unless the catalog knows the model and says it has no native tools on `gateway`."""
    if tool_mode not in TOOL_MODES:
        raise ValueError(f"tool_mode must be one of {sorted(TOOL_MODES)}, not {tool_mode!r}")
    if tool_mode == "hermes":
        return "hermes"
    if tool_mode == "native" or info is None:
        return "native"
    return "native" if info.supports_native_tools(gateway) else "hermes"


def _has_tool_history(messages: list[dict[str, Any]]) -> bool:
    return any(m.get("role") == "tool" or m.get("tool_calls") or m.get("function_call") for m in messages)


def prepare_request(
    request: ChatRequest,
    *,
    dialect: Dialect,
    info: ModelInfo | None,
    tool_mode: ToolMode = "auto",
    stream: bool = False,
) -> PreparedRequest:
    """Build the body for `dialect` (see the module docstring for the steps); `info` is the catalog entry
    of `request["model"]` (None: unknown), looked up once per request by the client."""
    requested = request.get("model")
    if not requested:
        raise ValueError("the request has no model: pass model= (e.g. 'hermes-3-llama-3.1-70b')")
    if "messages" not in request:
        raise ValueError("the request has no messages")
    gateway = dialect.name
    model = (
        multi_model_id(requested, gateway, stream=stream)
        if "," in requested
        else model_id_on(info, requested, gateway)
    )
    mode = resolve_tool_mode(tool_mode, info, gateway)
    tools = request.get("tools") or []

    body: dict[str, Any] = {k: v for k, v in request.items() if k not in CORE_ONLY_FIELDS}
    starts = request.get("starts_in_reasoning")
    if starts is None:
        starts = info is not None and info.starts_in_reasoning(gateway)
    body["model"] = model
    messages: list[dict[str, Any]] = request["messages"]
    # Tools in the Hermes prompt format rule out `response_format` (a JSON-constrained reply could not write
    # `<tool_call>` text); without tools, prompt mode changes nothing about JSON mode.
    prompt_tools = mode == "hermes" and bool(tools or _has_tool_history(messages))
    schema_prompt = json_prompt_schema(request, dialect, "hermes" if prompt_tools else "native")
    if schema_prompt is not None:
        if prompt_tools or not dialect.accepts_response_format:
            body.pop("response_format", None)
        messages = with_system_prompt(messages, json_schema_system_prompt(schema_prompt))
        body["messages"] = messages
    if mode == "hermes" and (tools or _has_tool_history(messages)):
        role = info.tool_role(gateway) if info is not None else "tool"
        body["messages"] = to_hermes_messages(
            messages, tools, tool_role=role, tool_choice=request.get("tool_choice")
        )
        for name in PROMPT_MODE_DROPS:
            body.pop(name, None)
    elif mode == "hermes":
        for name in PROMPT_MODE_DROPS:
            body.pop(name, None)

    extra = request.get("extra_body")
    if extra:
        for key in extra:
            if key not in dialect.extension_params and key not in STANDARD_PARAMS:
                logger.debug(
                    "extra_body field %r is not a known %s extension; sending it as given", key, gateway
                )
        body.update(extra)
    normalise_extensions(body, gateway)  # APIpie `routing` spelling, memory ranges: before any I/O

    if stream:
        body["stream"] = True
        if dialect.accepts_stream_options:
            options = dict(body.get("stream_options") or {})
            options["include_usage"] = True
            body["stream_options"] = options
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)

    for key in [k for k, v in body.items() if v is None]:
        del body[key]
        logger.debug("dropped %s for %s: it was None", key, gateway)
    apply_drop_rules(body, dialect, info)
    check_single_choice(body, gateway=gateway, stream=stream)
    check_request(body, info, gateway=gateway)
    return PreparedRequest(
        body=body,
        model=model,
        info=info,
        tool_mode=mode,
        has_tools=bool(tools),
        stream=stream,
        tool_names=frozenset(_tool_names(tools)),
        starts_in_reasoning=bool(starts),
        requested_model=requested,
    )


def _tool_names(tools: list[dict[str, Any]]) -> Iterator[str]:
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        name = fn.get("name") if isinstance(fn, dict) else None
        if isinstance(name, str) and name:
            yield name


def check_single_choice(body: Mapping[str, Any], *, gateway: str, stream: bool) -> None:
    """Refuse a streamed `n` > 1 before any I/O: a stream is read as one choice, so the other choices would be
    dropped. A non-streamed reply keeps every choice (`ChatResult.others`)."""
    n = body.get("n")
    if n is None or n == 1 or not stream:
        return
    raise BadRequestError(
        f"n={n!r} asks for {n} choices, but a stream carries one: call without streaming to get {n} "
        f"choices (LangChain: llm.generate / invoke; hermes_gateway: GatewayClient.chat), or make {n} "
        "streamed calls. Nothing was sent.",
        gateway=gateway,
    )


def json_prompt_schema(request: ChatRequest, dialect: Dialect, mode: str) -> dict[str, Any] | None:
    """The schema to put in the Hermes `<schema>` system prompt for this route, or None (see step 3).

    Where the route cannot take `response_format` (the dialect says so, or tools in prompt mode), the schema
    is the explicit `json_schema` or the one `response_format` names. Where it can, the prompt is added only
    when a `json_object` request carries an explicit schema: `json_object` alone would never show it to the
    model.
    """
    response_format = request.get("response_format")
    explicit = request.get("json_schema")
    wanted = schema_from_response_format(response_format)
    if wanted is None and explicit is None:
        return None
    if mode == "hermes" or not dialect.accepts_response_format:
        return explicit if explicit is not None else wanted
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if explicit is not None and kind != "json_schema":
        return explicit
    return None


def error_hint(
    prepared: PreparedRequest, gateway: str, *, status: int, content: bytes, base_url: str
) -> str | None:
    """What to do about a 400/404 (wrong base_url, model on another gateway, misspelt or retired model)."""
    return _hints.error_hint(
        status=status,
        text=content[:2000].decode("utf-8", errors="replace"),
        requested_model=prepared.requested_model,
        info=prepared.info,
        gateway=gateway,
        base_url=base_url,
    )


def cost_fallback(prepared: PreparedRequest, gateway: str) -> Callable[[int, int], float | None] | None:
    """The catalog's cost function, for replies whose gateway reports no cost (None: model unknown)."""
    info = prepared.info
    if info is None:
        return None

    def cost(prompt_tokens: int, completion_tokens: int) -> float | None:
        return info.cost_usd(gateway, prompt_tokens, completion_tokens)

    return cost
