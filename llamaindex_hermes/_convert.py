"""Pure converters between LlamaIndex types and the core's wire dicts / `ChatDelta`s. No I/O, no client.

Input flow:  `ChatMessage`s → `to_wire_messages` → OpenAI-style message dicts (text, image_url parts,
             assistant `tool_calls`, `tool` results with their `tool_call_id`); `BaseTool`s → `tools_to_wire`;
             `tool_choice` / `tool_required` → `tool_choice_to_wire`.
Output flow: every `ChatDelta` of a reply → `ResponseBuilder.feed` → one `ChatResponse` (the message so far,
             the new text as `delta`, `thinking_delta`, and on the final delta the usage and the finished
             tool calls). A non-streamed reply is the core's `ChatResult` (the same delta pipeline, added up
             once by the core) → `response_from_result`, which shares the final-response code.

Tool calls are judged once, in the core (`hermes_gateway.ToolCall.args` / `.error`): nothing here parses
arguments, except the best-effort reading of a partial call on a streamed chunk before the final one.
Invalid calls are never dropped: the final message keeps the `ToolCallBlock` with the raw text as
`tool_kwargs` and lists the call under `message.additional_kwargs["invalid_tool_calls"]` (`id`, `name`,
`arguments`, `error`); `tool_selections_from_response` then raises, or passes the raw text on under
`INVALID_ARGUMENTS_KEY`. When the conversation goes back to the model, the result an agent recorded for
such a call is replaced by a plain sentence saying the arguments were not valid JSON, with the parser's
error (`invalid_arguments_result`).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, cast

from llama_index.core.base.llms.types import (
    CachePoint,
    ChatMessage,
    ChatResponse,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

if TYPE_CHECKING:
    from collections.abc import Sequence

    from llama_index.core.tools.types import BaseTool

    from hermes_gateway import ChatDelta, ChatResult, ToolCall, Usage

INVALID_ARGUMENTS_KEY = "__hermes_invalid_arguments__"
"""Key under which `get_tool_calls_from_response(..., error_on_no_tool_call=False)` hands on the raw text of
a tool call whose arguments are not a JSON object. A tool called with it fails loudly (unexpected keyword), so
an agent reports the error back to the model instead of running the tool with made-up arguments."""

_ROLE_TO_WIRE: dict[str, str] = {
    MessageRole.SYSTEM.value: "system",
    MessageRole.DEVELOPER.value: "system",
    MessageRole.USER.value: "user",
    MessageRole.ASSISTANT.value: "assistant",
    MessageRole.CHATBOT.value: "assistant",
    MessageRole.MODEL.value: "assistant",
    MessageRole.TOOL.value: "tool",
    MessageRole.FUNCTION.value: "tool",
}
_TOOL_CHOICE_KEYWORDS = frozenset({"auto", "none", "required"})
_ASSISTANT = MessageRole.ASSISTANT
_DEFAULT_IMAGE_MIMETYPE = "image/png"


# --------------------------------------------------------------------------------------------- request side


def to_wire_messages(
    messages: Sequence[ChatMessage], *, reasoning_field: str | None = None
) -> list[dict[str, Any]]:
    """LlamaIndex messages → OpenAI-style wire dicts; never mutates the input.

    Images become `image_url` parts; the core refuses them for a text-only model before any request.
    `reasoning_field` (e.g. "reasoning_content") sends an assistant's `ThinkingBlock`s back under that key,
    for reasoning models whose providers need it on multi-turn tool use; None leaves reasoning out.
    """
    wire = [_message_to_wire(message, reasoning_field) for message in messages]
    invalid: dict[str, dict[str, Any]] = {}
    for message, item in zip(messages, wire, strict=True):
        if item["role"] == "assistant":
            for entry in message.additional_kwargs.get("invalid_tool_calls") or ():
                invalid[str(entry.get("id"))] = entry
        elif item["role"] == "tool" and invalid and item["tool_call_id"] in invalid:
            item["content"] = invalid_arguments_result(invalid[item["tool_call_id"]])
    return wire


def invalid_arguments_result(entry: dict[str, Any]) -> str:
    """What the model reads back for a call whose arguments were not a JSON object (the tool was not run).

    Whatever the agent recorded as that call's result (`got an unexpected keyword argument
    '__hermes_invalid_arguments__'`) is replaced by this, so the model learns what to fix."""
    name = entry.get("name") or "the tool"
    return (
        f"Error: {name} was not run because the arguments you sent were not valid JSON "
        f"({entry.get('error')}). You sent: {entry.get('arguments')}. Call {name} again with its "
        "arguments as one JSON object."
    )


def _message_to_wire(message: ChatMessage, reasoning_field: str | None) -> dict[str, Any]:
    role = _ROLE_TO_WIRE.get(message.role.value, message.role.value)
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    has_image = False
    tool_calls: list[dict[str, Any]] = []
    reasoning: list[str] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            has_image = True
            parts.append(_image_part(block))
        elif isinstance(block, ToolCallBlock):
            tool_calls.append(_tool_call_block_to_wire(block))
        elif isinstance(block, ThinkingBlock):
            if block.content:
                reasoning.append(block.content)
        elif isinstance(block, CachePoint):
            continue  # cache points mean nothing to these gateways
        else:
            raise ValueError(
                f"Hermes cannot send a {type(block).__name__} ({block.block_type!r}); "
                "only text, image and tool-call blocks are supported."
            )
    wire: dict[str, Any] = {"role": role}
    if has_image and role == "user":
        wire["content"] = parts
    else:
        wire["content"] = "\n".join(texts)
    kwargs = message.additional_kwargs
    if role == "assistant":
        if not tool_calls and kwargs.get("tool_calls"):
            tool_calls = [_legacy_tool_call_to_wire(call) for call in kwargs["tool_calls"]]
        if tool_calls:
            wire["tool_calls"] = tool_calls
            if not wire["content"]:
                wire["content"] = None
        if reasoning_field is not None and reasoning:
            wire[reasoning_field] = "".join(reasoning)
    elif role == "tool":
        tool_call_id = kwargs.get("tool_call_id")
        if tool_call_id is None:
            raise ValueError(
                "A tool message needs additional_kwargs['tool_call_id'] (the id of the call it answers)."
            )
        wire["tool_call_id"] = str(tool_call_id)
        if kwargs.get("name"):
            wire["name"] = kwargs["name"]
    return wire


def _image_part(block: ImageBlock) -> dict[str, Any]:
    if block.url is not None and block.image is None and block.path is None:
        url = str(block.url)  # sent as is: the gateway fetches it, we never download it here
    else:
        data = block.resolve_image(as_base64=True).read()
        text = data.decode("ascii") if isinstance(data, bytes) else base64.b64encode(data).decode("ascii")
        url = f"data:{block.image_mimetype or _DEFAULT_IMAGE_MIMETYPE};base64,{text}"
    image_url: dict[str, Any] = {"url": url}
    if block.detail:
        image_url["detail"] = block.detail
    return {"type": "image_url", "image_url": image_url}


def _tool_call_block_to_wire(block: ToolCallBlock) -> dict[str, Any]:
    kwargs = block.tool_kwargs
    arguments = kwargs if isinstance(kwargs, str) else json.dumps(kwargs, ensure_ascii=False)
    return {
        "id": block.tool_call_id or "",
        "type": "function",
        "function": {"name": block.tool_name, "arguments": arguments},
    }


def _legacy_tool_call_to_wire(call: Any) -> dict[str, Any]:
    """`additional_kwargs["tool_calls"]` entries: our dicts, or OpenAI SDK objects from other integrations."""
    if isinstance(call, dict):
        function = call.get("function") or {}
        call_id, name, arguments = call.get("id"), function.get("name"), function.get("arguments")
    else:
        function = getattr(call, "function", None)
        call_id = getattr(call, "id", None)
        name = getattr(function, "name", None)
        arguments = getattr(function, "arguments", None)
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments or {}, ensure_ascii=False)
    return {"id": call_id or "", "type": "function", "function": {"name": name or "", "arguments": arguments}}


def tools_to_wire(tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
    """LlamaIndex tools → OpenAI `tools` entries (the core turns them into a Hermes prompt when needed)."""
    return [tool.metadata.to_openai_tool(skip_length_check=True) for tool in tools]


def tool_choice_to_wire(
    tool_choice: str | dict[str, Any] | None, tool_required: bool
) -> str | dict[str, Any]:
    """`None` → "required" or "auto"; a keyword passes through; any other string names the tool to call."""
    if tool_choice is None:
        return "required" if tool_required else "auto"
    if isinstance(tool_choice, dict) or tool_choice in _TOOL_CHOICE_KEYWORDS:
        return tool_choice
    return {"type": "function", "function": {"name": tool_choice}}


# --------------------------------------------------------------------------------------------- reply side


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    """The OpenAI-style usage dict `TokenCountingHandler` reads, plus the gateway's cost."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost_usd": usage.cost_usd,
    }


# The hot path builds three pydantic objects per streamed chunk. Validating them costs more than the rest of
# the adapter together, and every value here is already of the right type, so they are built as pydantic's
# `model_construct` builds them (no validation), minus its generic per-field loop. Only when the field sets
# are exactly the ones below (checked at import, so a LlamaIndex upgrade that adds a field falls back to the
# validating constructors); tests/llamaindex/test_convert.py checks both give equal objects.
_new = object.__new__
_setattr = object.__setattr__
_FAST_BUILD = (
    set(TextBlock.model_fields) == {"block_type", "text"}
    and set(ChatMessage.model_fields) == {"role", "additional_kwargs", "blocks"}
    and set(ChatResponse.model_fields) == {"message", "raw", "delta", "logprobs", "additional_kwargs"}
    and not (TextBlock.__private_attributes__ or ChatMessage.__private_attributes__)
    and not ChatResponse.__private_attributes__
)


def _construct(cls: type[Any], values: dict[str, Any], fields_set: set[str]) -> Any:
    obj = _new(cls)
    _setattr(obj, "__dict__", values)
    _setattr(obj, "__pydantic_fields_set__", fields_set)
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


def build_response(
    blocks: list[Any],
    message_kwargs: dict[str, Any],
    delta: str,
    raw: dict[str, Any] | None,
    response_kwargs: dict[str, Any],
    logprobs: list[list[LogProb]] | None = None,
) -> ChatResponse:
    """`ChatResponse(message=ChatMessage(role=assistant, blocks=...), ...)`, without re-validating."""
    if not _FAST_BUILD:
        return ChatResponse(
            message=ChatMessage(role=_ASSISTANT, blocks=blocks, additional_kwargs=message_kwargs),
            delta=delta,
            raw=raw,
            logprobs=logprobs,
            additional_kwargs=response_kwargs,
        )
    message = _construct(
        ChatMessage,
        {"role": _ASSISTANT, "additional_kwargs": message_kwargs, "blocks": blocks},
        {"role", "blocks", "additional_kwargs"},
    )
    return cast(
        "ChatResponse",
        _construct(
            ChatResponse,
            {
                "message": message,
                "raw": raw,
                "delta": delta,
                "logprobs": logprobs,
                "additional_kwargs": response_kwargs,
            },
            {"message", "delta", "raw", "additional_kwargs"}
            if logprobs is None
            else {"message", "delta", "raw", "logprobs", "additional_kwargs"},
        ),
    )


def to_logprobs(entries: list[dict[str, Any]]) -> list[list[LogProb]]:
    """OpenAI token entries → LlamaIndex's `ChatResponse.logprobs` shape: per token, its `top_logprobs`
    alternatives (as llama-index-llms-openai gives them), or the chosen token alone when none were asked."""
    out: list[list[LogProb]] = []
    for entry in entries:
        alternatives = entry.get("top_logprobs") or [entry]
        out.append(
            [
                LogProb(
                    token=str(alt.get("token", "")),
                    logprob=float(alt.get("logprob", 0.0)),
                    bytes=list(alt.get("bytes") or []),
                )
                for alt in alternatives
                if isinstance(alt, dict)
            ]
        )
    return out


def text_block(text: str) -> TextBlock:
    if not _FAST_BUILD:
        return TextBlock(text=text)
    return cast("TextBlock", _construct(TextBlock, {"block_type": "text", "text": text}, {"text"}))


class _CallState:
    """One tool call being assembled from its streamed fragments (for the partial responses only)."""

    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments = ""


class ResponseBuilder:
    """Feed a reply's `ChatDelta`s in order; each `feed` returns the `ChatResponse` to hand to LlamaIndex.

    Pure and linear: text is appended and tool-call fragments merged by `index` for the partial responses;
    the final delta (the one carrying `finish_reason`) brings the core's finished calls, which replace them.
    One instance per reply.
    """

    __slots__ = ("_calls", "_content", "_logprobs", "_reasoning", "_thinking", "gateway")

    def __init__(self, *, gateway: str | None = None) -> None:
        self._content = ""
        self._logprobs: list[list[LogProb]] | None = None
        self._reasoning = ""
        self._thinking: ThinkingBlock | None = None
        self._calls: dict[int, _CallState] = {}
        self.gateway = gateway
        """Reported on the final response (`raw` and `additional_kwargs`) when the final delta does not say
        which gateway served (`ChatDelta.gateway`, then `Usage.gateway`)."""

    @property
    def text(self) -> str:
        """The answer text so far."""
        return self._content

    def feed(self, delta: ChatDelta) -> ChatResponse:
        if delta.content:
            self._content += delta.content
        if delta.reasoning:
            self._reasoning += delta.reasoning
            self._thinking = ThinkingBlock(content=self._reasoning)
        for fragment in delta.tool_calls:
            state = self._calls.get(fragment.index)
            if state is None:
                state = self._calls[fragment.index] = _CallState()
            if fragment.id and not state.id:
                state.id = fragment.id
            if fragment.name and not state.name:
                state.name = fragment.name
            if fragment.arguments:
                state.arguments += fragment.arguments
        if delta.logprobs is not None:
            if self._logprobs is None:
                self._logprobs = []
            self._logprobs.extend(to_logprobs(delta.logprobs))
        logprobs = list(self._logprobs) if self._logprobs is not None else None  # so far, like the message
        if delta.finish_reason is not None:
            return _final_response(
                self._thinking,
                self._content,
                delta.finished_tool_calls or [],
                delta,
                self.gateway,
                delta.content,
                delta.reasoning,
                logprobs,
            )
        blocks: list[Any] = []
        if self._thinking is not None:
            blocks.append(self._thinking)  # rebuilt only when the reasoning grew
        blocks.append(text_block(self._content))
        message_kwargs: dict[str, Any] = {}
        if self._calls:
            wire_calls: list[dict[str, Any]] = []
            for state in self._calls.values():
                blocks.append(
                    ToolCallBlock(tool_call_id=state.id, tool_name=state.name, tool_kwargs=state.arguments)
                )
                wire_calls.append(_wire_call(state.id, state.name, state.arguments))
            message_kwargs["tool_calls"] = wire_calls
        response_kwargs: dict[str, Any] = {"thinking_delta": delta.reasoning} if delta.reasoning else {}
        return build_response(blocks, message_kwargs, delta.content, None, response_kwargs, logprobs)


def _wire_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _final_response(
    thinking: ThinkingBlock | None,
    content: str,
    calls: list[ToolCall],
    last: ChatDelta | ChatResult,
    default_gateway: str | None,
    delta_text: str,
    thinking_delta: str,
    logprobs: list[list[LogProb]] | None = None,
) -> ChatResponse:
    """The last response of a reply: the whole message, the core's finished tool calls, raw metadata."""
    blocks: list[Any] = []
    if thinking is not None:
        blocks.append(thinking)
    blocks.append(text_block(content))
    message_kwargs: dict[str, Any] = {}
    if calls:
        invalid: list[dict[str, Any]] = []
        for call in calls:
            kwargs: dict[str, Any] | str = call.args if call.args is not None else call.arguments
            if call.args is None:
                invalid.append(
                    {"id": call.id, "name": call.name, "arguments": call.arguments, "error": call.error}
                )
            blocks.append(ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=kwargs))
        message_kwargs["tool_calls"] = [_wire_call(c.id, c.name, c.arguments) for c in calls]
        if invalid:
            message_kwargs["invalid_tool_calls"] = invalid
    usage = last.usage
    gateway = last.gateway or (usage.gateway if usage is not None else None) or default_gateway
    raw: dict[str, Any] = {
        "id": last.id,  # the gateway's response id (LlamaIndex keeps provider ids in `raw`)
        "model": last.model,
        "provider": last.provider,
        "gateway": gateway,
        "finish_reason": last.finish_reason,
        "request_id": last.request_id,  # the gateway's (AI/ML API x-inference-id)
        "client_request_id": last.client_request_id,  # the X-Client-Request-Id sent
    }
    response_kwargs: dict[str, Any] = {"thinking_delta": thinking_delta} if thinking_delta else {}
    if usage is not None:
        usage_dict = usage_to_dict(usage)
        raw["usage"] = usage_dict
        response_kwargs.update(usage_dict)
    if gateway is not None:
        response_kwargs["gateway"] = gateway
    return build_response(blocks, message_kwargs, delta_text, raw, response_kwargs, logprobs)


def response_from_result(result: ChatResult, *, gateway: str | None = None) -> ChatResponse:
    """A non-streamed reply (already added up by the core) → its `ChatResponse`, built as a stream's last."""
    thinking = ThinkingBlock(content=result.reasoning) if result.reasoning else None
    if result.finish_reason is None:
        result.finish_reason = "stop"
    logprobs = to_logprobs(result.logprobs) if result.logprobs is not None else None
    return _final_response(
        thinking,
        result.content,
        result.tool_calls,
        result,
        gateway,
        result.content,
        result.reasoning,
        logprobs,
    )


def tool_selections_from_response(response: ChatResponse, *, error_on_invalid: bool) -> list[ToolSelection]:
    """The tool calls of a (possibly partial, streamed) response; never raises on a partial chunk.

    A partial chunk's arguments are read leniently (incomplete JSON is closed up, else `{}`). A final
    response's invalid arguments raise ValueError when `error_on_invalid`, else are handed on under
    `INVALID_ARGUMENTS_KEY`.
    """
    blocks = [block for block in response.message.blocks if isinstance(block, ToolCallBlock)]
    if not blocks:
        legacy = response.message.additional_kwargs.get("tool_calls") or []
        blocks = [_legacy_to_block(call) for call in legacy]
    invalid_ids = {
        entry.get("id"): entry.get("error")
        for entry in response.message.additional_kwargs.get("invalid_tool_calls") or ()
    }
    selections: list[ToolSelection] = []
    for block in blocks:
        kwargs = block.tool_kwargs
        if isinstance(kwargs, str):
            error = invalid_ids.get(block.tool_call_id, _NOT_INVALID)
            if error is not _NOT_INVALID:  # judged invalid by the core, on the final response
                if error_on_invalid:
                    raise ValueError(
                        f"The model called tool {block.tool_name!r} with invalid arguments ({error}): "
                        f"{kwargs!r}"
                    )
                kwargs = {INVALID_ARGUMENTS_KEY: kwargs}
            else:  # a partial (streamed) call, or a legacy message: best effort, never raises
                kwargs = _lenient_partial(kwargs)
        selections.append(
            ToolSelection(tool_id=block.tool_call_id or "", tool_name=block.tool_name, tool_kwargs=kwargs)
        )
    return selections


_NOT_INVALID = object()


def _lenient_partial(text: str) -> dict[str, Any]:
    try:
        value = parse_partial_json(text)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _legacy_to_block(call: Any) -> ToolCallBlock:
    wire = _legacy_tool_call_to_wire(call)
    return ToolCallBlock(
        tool_call_id=wire["id"], tool_name=wire["function"]["name"], tool_kwargs=wire["function"]["arguments"]
    )


def force_single_tool_call(response: ChatResponse) -> None:
    """Keep only the first tool call (when the caller did not allow parallel calls)."""
    message = response.message
    seen = False
    kept: list[Any] = []
    for block in message.blocks:
        if isinstance(block, ToolCallBlock):
            if seen:
                continue
            seen = True
        kept.append(block)
    message.blocks = kept
    calls = message.additional_kwargs.get("tool_calls")
    if calls and len(calls) > 1:
        message.additional_kwargs["tool_calls"] = calls[:1]
