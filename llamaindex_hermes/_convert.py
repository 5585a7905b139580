"""Pure converters between LlamaIndex types and the core's wire dicts / `ChatDelta`s. No I/O, no client.

Input flow:  `ChatMessage`s → `to_wire_messages` → OpenAI-style message dicts (text, image_url parts,
             assistant `tool_calls`, `tool` results with their `tool_call_id`); `BaseTool`s → `tools_to_wire`;
             `tool_choice` / `tool_required` → `tool_choice_to_wire`.
Output flow: every `ChatDelta` of a reply → `ResponseBuilder.feed` → one `ChatResponse` (the message so far,
             the new text as `delta`, `thinking_delta`, and on the final delta the usage). A non-streamed
             reply is the same thing fed one delta (`delta_from_result`), so all four chat/complete methods
             and their async twins share this single mapper.

Invalid tool-call arguments (JSON that does not parse into an object) are never dropped: the final message
keeps the `ToolCallBlock` with the raw text as `tool_kwargs` and lists the call under
`message.additional_kwargs["invalid_tool_calls"]` (`id`, `name`, `arguments`, `error`);
`tool_selections_from_response` then raises, or passes the raw text on under `INVALID_ARGUMENTS_KEY` (so the
tool's function is never run with it: an ordinary Python function refuses the unknown keyword). When the
conversation goes back to the model, the result an agent recorded for such a call is replaced by a plain
sentence saying the arguments were not valid JSON, with the parser's error (`invalid_arguments_result`).
"""

from __future__ import annotations

import base64
import contextlib
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

from hermes_gateway._types import ChatDelta, ChatResult, ToolCallDelta, Usage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from llama_index.core.tools.types import BaseTool

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


def delta_from_result(result: ChatResult) -> ChatDelta:
    """A whole reply as one final delta, so a non-streamed reply goes through `ResponseBuilder` too."""
    return ChatDelta(
        content=result.content,
        reasoning=result.reasoning,
        tool_calls=[
            ToolCallDelta(index=i, id=call.id, name=call.name, arguments=call.arguments)
            for i, call in enumerate(result.tool_calls)
        ],
        finish_reason=result.finish_reason or "stop",
        usage=result.usage,
        id=result.id,
        model=result.model,
        provider=result.provider,
        role="assistant",
        gateway=result.gateway,
        logprobs=result.logprobs,
        request_id=result.request_id,
        client_request_id=result.client_request_id,
    )


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
    """One tool call being assembled from its fragments."""

    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments = ""


class ResponseBuilder:
    """Feed a reply's `ChatDelta`s in order; each `feed` returns the `ChatResponse` to hand to LlamaIndex.

    Pure and linear: text is appended, tool-call fragments are merged by `index`, and arguments are parsed
    only once, on the final delta (the one carrying `finish_reason`). One instance per reply.
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
        final = delta.finish_reason is not None

        blocks: list[Any] = []
        if self._thinking is not None:
            blocks.append(self._thinking)  # rebuilt only when the reasoning grew
        blocks.append(text_block(self._content))
        message_kwargs: dict[str, Any] = {}
        if self._calls:
            self._add_tool_calls(blocks, message_kwargs, final)

        response_kwargs: dict[str, Any] = {}
        if delta.reasoning:
            response_kwargs["thinking_delta"] = delta.reasoning
        raw: dict[str, Any] | None = None
        if final:
            gateway = (
                delta.gateway or (delta.usage.gateway if delta.usage is not None else None) or self.gateway
            )
            raw = {
                "id": delta.id,
                "model": delta.model,
                "provider": delta.provider,
                "gateway": gateway,
                "finish_reason": delta.finish_reason,
                "request_id": delta.request_id,  # the gateway's (AI/ML API x-inference-id)
                "client_request_id": delta.client_request_id,  # the X-Client-Request-Id sent
            }
            if delta.usage is not None:
                usage = usage_to_dict(delta.usage)
                raw["usage"] = usage
                response_kwargs.update(usage)
            if gateway is not None:
                response_kwargs["gateway"] = gateway
        if delta.logprobs is not None:
            if self._logprobs is None:
                self._logprobs = []
            self._logprobs.extend(to_logprobs(delta.logprobs))
        logprobs = list(self._logprobs) if self._logprobs is not None else None  # so far, like the message
        return build_response(blocks, message_kwargs, delta.content, raw, response_kwargs, logprobs)

    def _add_tool_calls(self, blocks: list[Any], message_kwargs: dict[str, Any], final: bool) -> None:
        wire_calls: list[dict[str, Any]] = []
        invalid: list[dict[str, Any]] = []
        for state in self._calls.values():
            kwargs: dict[str, Any] | str = state.arguments
            if final:
                parsed, error = parse_arguments(state.arguments)
                if error is None:
                    kwargs = parsed
                else:
                    invalid.append(
                        {"id": state.id, "name": state.name, "arguments": state.arguments, "error": error}
                    )
            blocks.append(ToolCallBlock(tool_call_id=state.id, tool_name=state.name, tool_kwargs=kwargs))
            wire_calls.append(
                {
                    "id": state.id,
                    "type": "function",
                    "function": {"name": state.name, "arguments": state.arguments},
                }
            )
        message_kwargs["tool_calls"] = wire_calls
        if invalid:
            message_kwargs["invalid_tool_calls"] = invalid


def parse_arguments(text: str) -> tuple[dict[str, Any], str | None]:
    """Complete arguments text → (kwargs, None), or ({}, why) when it is not a JSON object.

    Empty text and `null` mean a call without arguments: zero-argument tools get `{}`, never None.
    """
    stripped = text.strip()
    if not stripped or stripped == "null":
        return {}, None
    try:
        value = json.loads(stripped)
    except ValueError as exc:
        return {}, f"arguments are not valid JSON: {exc}"
    if isinstance(value, str):  # some providers double-encode the arguments
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None


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
        entry.get("id") for entry in response.message.additional_kwargs.get("invalid_tool_calls") or ()
    }
    selections: list[ToolSelection] = []
    for block in blocks:
        kwargs = block.tool_kwargs
        if isinstance(kwargs, str):
            parsed, error = parse_arguments(kwargs)
            if error is not None:
                if block.tool_call_id in invalid_ids:
                    if error_on_invalid:
                        raise ValueError(
                            f"The model called tool {block.tool_name!r} with invalid arguments ({error}): "
                            f"{kwargs!r}"
                        )
                    parsed = {INVALID_ARGUMENTS_KEY: kwargs}
                else:
                    parsed = _lenient_partial(kwargs)
            kwargs = parsed
        selections.append(
            ToolSelection(tool_id=block.tool_call_id or "", tool_name=block.tool_name, tool_kwargs=kwargs)
        )
    return selections


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
