"""Pure converters between LangChain's types and the core's wire dicts / `ChatDelta` / `ChatResult`.

Input flow:  `BaseMessage`s → `messages_to_wire` → `ChatRequest["messages"]` (OpenAI-style dicts; text and
             image parts only, tool calls with their ids, reasoning sent back only where asked).
Output flow: each streamed `ChatDelta` → `delta_to_chunk` (the hot path) or, for the delta that carries
             `finish_reason`, `final_chunk`; a whole `ChatResult` → `result_to_message`.

Nothing here does I/O or keeps state, so the sync and async paths of `ChatHermes` share every line of it.
Every chunk carries `response_metadata["model_provider"] = "hermes"`, which selects this package's
content-block translator (`_blocks.py`) when LangChain converts chunks to v1 blocks.

Why the hot path builds messages by hand: `AIMessageChunk(...)` runs pydantic validation plus three model
validators (about 5 µs), and `model_construct` is slower still (it inspects default factories); a plain text
or reasoning delta needs none of that — its validators are no-ops — so `delta_to_chunk` fills the instance
dict from a prototype the same way `model_construct` would. Anything with tool calls, usage or metadata goes
through the real constructors.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk
from pydantic import BaseModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_core.messages import InvalidToolCall, ToolCall, ToolCallChunk, UsageMetadata

    from hermes_gateway import ChatDelta, ChatResult, ToolCallDelta, Usage
    from hermes_gateway import ToolCall as CoreToolCall

MODEL_PROVIDER = "hermes"
"""`response_metadata["model_provider"]` on every reply, whichever gateway served it."""

REASONING_KEY = "reasoning_content"
"""Where reasoning goes in `additional_kwargs` (what langchain-core's block parser reads)."""

_SKIPPED_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "thinking",
        "reasoning",
        "reasoning_content",
        "redacted_thinking",
        "non_standard",
    }
)
"""Content blocks that are not content for the wire: tool calls travel in `tool_calls`, reasoning in its
own field."""

_UNSUPPORTED_BLOCKS = frozenset({"file", "audio", "input_audio", "video", "document", "pdf"})


class UnsupportedContentError(ValueError):
    """A message holds content (audio, files, PDFs) that no Hermes model on these gateways accepts."""


# --- input: LangChain messages → wire dicts -------------------------------------------------------------


def _image_part(block: dict[str, Any]) -> dict[str, Any] | None:
    """An OpenAI `image_url` part from any LangChain / OpenAI / Anthropic image block, or None."""
    kind = block.get("type")
    if kind == "image_url":
        image_url = block.get("image_url")
        if isinstance(image_url, str):
            return {"type": "image_url", "image_url": {"url": image_url}}
        if isinstance(image_url, dict) and image_url.get("url"):
            return {"type": "image_url", "image_url": dict(image_url)}
        return None
    if kind != "image":
        return None
    source = block.get("source")
    if isinstance(source, dict):  # Anthropic shape
        if source.get("type") == "base64" and source.get("data"):
            mime = source.get("media_type") or "image/png"
            return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{source['data']}"}}
        if source.get("type") == "url" and source.get("url"):
            return {"type": "image_url", "image_url": {"url": source["url"]}}
        return None
    url = block.get("url")
    data = block.get("base64")
    source_type = block.get("source_type")  # v0 data blocks
    if source_type == "url":
        url = url or block.get("data")
    elif source_type == "base64":
        data = data or block.get("data")
    if url:
        return {"type": "image_url", "image_url": {"url": url}}
    if data:
        mime = block.get("mime_type") or "image/png"
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    if block.get("file_id") or source_type == "id":
        raise UnsupportedContentError("image blocks that reference a provider file id cannot be sent")
    return None


def content_to_wire(content: str | list[str | dict[str, Any]]) -> str | list[dict[str, Any]]:
    """LangChain content → a string, or text + `image_url` parts when there are images.

    Text-only content collapses to one string (joined like `BaseMessage.text`): every Hermes chat template
    renders plain strings, and AI/ML API's Nous-Hermes-2 spec takes nothing else reliably.
    """
    if isinstance(content, str):
        return content
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    has_image = False
    for block in content:
        if isinstance(block, str):
            texts.append(block)
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type")
        if kind == "text" or (kind is None and isinstance(block.get("text"), str)):
            text = block.get("text") or ""
            texts.append(text)
            parts.append({"type": "text", "text": text})
        elif kind in ("image", "image_url"):
            part = _image_part(block)
            if part is None:
                raise UnsupportedContentError(
                    f"image block without a url or base64 data: keys {sorted(block)}"
                )
            parts.append(part)
            has_image = True
        elif kind in _SKIPPED_BLOCKS:
            continue
        elif kind in _UNSUPPORTED_BLOCKS:
            raise UnsupportedContentError(
                f"{kind!r} content is not supported: Hermes models on APIpie and AI/ML API take text and "
                "images (vision models only)"
            )
        else:
            raise UnsupportedContentError(f"unsupported content block type {kind!r}")
    return parts if has_image else "".join(texts)


def _reasoning_of(message: AIMessage) -> str:
    reasoning = message.additional_kwargs.get(REASONING_KEY)
    if isinstance(reasoning, str) and reasoning:
        return reasoning
    if isinstance(message.content, list):  # v1 content blocks
        texts = [
            block.get("reasoning") or ""
            for block in message.content
            if isinstance(block, dict) and block.get("type") == "reasoning"
        ]
        return "".join(t for t in texts if isinstance(t, str))
    return ""


def _wire_tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call["id"],
        "type": "function",
        "function": {"name": call["name"], "arguments": json.dumps(call["args"], ensure_ascii=False)},
    }


def _wire_invalid_tool_call(call: InvalidToolCall) -> dict[str, Any]:
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": call.get("name") or "", "arguments": call.get("args") or ""},
    }


def _tool_result_text(content: str | list[str | dict[str, Any]]) -> str:
    """Tool results are text on every Hermes path (`<tool_response>` in prompt mode, `tool` role natively)."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for block in content:
        if isinstance(block, str):
            texts.append(block)
        elif block.get("type") == "text" or (block.get("type") is None and "text" in block):
            texts.append(str(block.get("text", "")))
        elif block.get("type") in ("image", "image_url", *_UNSUPPORTED_BLOCKS):
            raise UnsupportedContentError(
                f"{block.get('type')!r} blocks in a ToolMessage are not supported by Hermes models"
            )
        else:
            texts.append(json.dumps(block, ensure_ascii=False))
    return "".join(texts)


def message_to_wire(message: BaseMessage, *, reasoning_field: str | None = None) -> dict[str, Any]:
    """One LangChain message → one OpenAI-style dict.

    `name` is not sent: no Hermes chat template renders it and strict gateways reject unknown fields.
    `reasoning_field` (e.g. `"reasoning_content"`) sends an assistant's reasoning back, for models whose
    providers need it on multi-turn tool use; None leaves it out.
    """
    if isinstance(message, HumanMessage):
        return {"role": "user", "content": content_to_wire(message.content)}
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": content_to_wire(message.content)}
    if isinstance(message, AIMessage):
        content = content_to_wire(message.content)
        wire: dict[str, Any] = {"role": "assistant", "content": content}
        calls = [_wire_tool_call(c) for c in message.tool_calls]
        calls += [_wire_invalid_tool_call(c) for c in message.invalid_tool_calls]
        if calls:
            wire["tool_calls"] = calls
            if not content:
                wire["content"] = None
        if reasoning_field is not None and (reasoning := _reasoning_of(message)):
            wire[reasoning_field] = reasoning
        return wire
    if isinstance(message, ToolMessage):
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _tool_result_text(message.content),
        }
    if isinstance(message, ChatMessage):
        return {"role": message.role, "content": content_to_wire(message.content)}
    if isinstance(message, FunctionMessage):
        return {"role": "function", "name": message.name, "content": _tool_result_text(message.content)}
    raise TypeError(f"cannot send a {type(message).__name__} to a chat model")


def messages_to_wire(
    messages: Sequence[BaseMessage], *, reasoning_field: str | None = None
) -> list[dict[str, Any]]:
    return [message_to_wire(m, reasoning_field=reasoning_field) for m in messages]


# --- output: usage, tool calls, metadata --------------------------------------------------------------


def usage_to_metadata(usage: Usage) -> UsageMetadata:
    metadata: UsageMetadata = {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
    }
    if usage.cached_tokens is not None:
        metadata["input_token_details"] = {"cache_read": usage.cached_tokens}
    if usage.reasoning_tokens is not None:
        metadata["output_token_details"] = {"reasoning": usage.reasoning_tokens}
    return metadata


def tool_calls_of(calls: Sequence[CoreToolCall]) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """The core's finished calls → LangChain's valid and invalid tool calls (judged once, in the core)."""
    valid: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        if call.args is not None:
            valid.append(tool_call(name=call.name, args=call.args, id=call.id))
        else:
            invalid.append(
                invalid_tool_call(name=call.name or None, args=call.arguments, id=call.id, error=call.error)
            )
    return valid, invalid


def response_metadata(reply: ChatResult | ChatDelta, *, model_name: str, gateway: str) -> dict[str, Any]:
    """The metadata every reply carries (a whole reply, or a stream's final delta: the same fields). `gateway`
    is the one that served; `request_id` is the gateway's (AI/ML API `x-inference-id`), `client_request_id`
    the `X-Client-Request-Id` this call sent."""
    usage = reply.usage
    metadata: dict[str, Any] = {
        "model_name": model_name,
        "model_provider": MODEL_PROVIDER,
        "gateway": gateway,
        "provider": reply.provider if reply.provider is not None else (usage.provider if usage else None),
        "model": reply.model if reply.model is not None else (usage.model if usage else None),
        "finish_reason": reply.finish_reason,
        "cost_usd": usage.cost_usd if usage else None,
        "latency_ms": usage.latency_ms if usage else None,
        "id": reply.id,
        "request_id": reply.request_id,
        "client_request_id": reply.client_request_id,
    }
    if reply.logprobs is not None:
        metadata["logprobs"] = {"content": reply.logprobs}
    return metadata


def result_to_message(
    result: ChatResult, *, model_name: str, gateway: str, output_version: str | None = None
) -> AIMessage:
    """A whole reply → `AIMessage`. The tool calls come judged from the core (invalid ones become
    `invalid_tool_calls`). No message id: langchain-core gives each call its own run id (`lc_run-...`), as
    for ChatOpenAI; the gateway's response id, which some servers repeat, is `response_metadata["id"]`."""
    valid, invalid = tool_calls_of(result.tool_calls)
    additional_kwargs: dict[str, Any] = {REASONING_KEY: result.reasoning} if result.reasoning else {}
    metadata = response_metadata(result, model_name=model_name, gateway=result.gateway or gateway)
    return AIMessage(
        content=result.content,
        additional_kwargs=additional_kwargs,
        tool_calls=valid,
        invalid_tool_calls=invalid,
        usage_metadata=usage_to_metadata(result.usage) if result.usage else None,
        response_metadata=metadata,
    )


def result_to_generation(result: ChatResult, *, model_name: str, gateway: str) -> ChatGeneration:
    message = result_to_message(result, model_name=model_name, gateway=gateway)
    return ChatGeneration(message=message, generation_info={"finish_reason": result.finish_reason})


# --- the streaming hot path -------------------------------------------------------------------------------

_CHUNK_PROTOTYPE = AIMessageChunk(content="")
_CHUNK_DEFAULTS: dict[str, Any] = dict(_CHUNK_PROTOTYPE.__dict__)
_GEN_PROTOTYPE = ChatGenerationChunk(message=_CHUNK_PROTOTYPE)
_GEN_DEFAULTS: dict[str, Any] = dict(_GEN_PROTOTYPE.__dict__)
_FRESH_CONTAINERS = frozenset(
    {"additional_kwargs", "response_metadata", "tool_calls", "invalid_tool_calls", "tool_call_chunks"}
)
"""The message's mutable defaults: `delta_to_chunk` gives every chunk new ones."""
_FAST_PATH = (
    set(_CHUNK_DEFAULTS) == set(AIMessageChunk.model_fields)
    and set(_GEN_DEFAULTS) == set(ChatGenerationChunk.model_fields)
    and {k for k, v in _CHUNK_DEFAULTS.items() if isinstance(v, (list, dict))} == _FRESH_CONTAINERS
    and _CHUNK_PROTOTYPE.__pydantic_extra__ == {}
    and _CHUNK_PROTOTYPE.__pydantic_private__ is None
    and _GEN_PROTOTYPE.__pydantic_extra__ is None
    and _GEN_PROTOTYPE.__pydantic_private__ is None
)
"""The hand-built path is used only while the installed langchain-core has exactly the fields we fill."""

_new_chunk = AIMessageChunk.__new__
_new_gen = ChatGenerationChunk.__new__
# pydantic's four instance slots, set through their descriptors (what `model_construct` does, minus the
# attribute lookups of `object.__setattr__`).
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def tool_call_chunks(deltas: Sequence[ToolCallDelta]) -> list[ToolCallChunk]:
    return [tool_call_chunk(name=d.name, args=d.arguments, id=d.id, index=d.index) for d in deltas]


def delta_to_chunk(delta: ChatDelta) -> ChatGenerationChunk:
    """A content / reasoning / tool-call delta (not the final one) → one chunk.

    The hot path of every stream: a text or reasoning delta is built without validation (see the module
    docstring for why that is safe), ~0.85 µs against ~5 µs for the validating constructors, with 9
    GC-tracked objects per chunk against their 10 (which matters because `BaseChatModel.stream` keeps every
    chunk until the stream ends). Deltas with tool calls, and any langchain-core whose fields differ from
    the ones filled here, go through the constructors."""
    content = delta.content
    reasoning = delta.reasoning
    if delta.tool_calls or delta.logprobs is not None:
        metadata: dict[str, Any] = {"model_provider": MODEL_PROVIDER}
        if delta.logprobs is not None:  # as ChatOpenAI: chunk addition concatenates the "content" lists
            metadata["logprobs"] = {"content": delta.logprobs}
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content=content,
                additional_kwargs={REASONING_KEY: reasoning} if reasoning else {},
                tool_call_chunks=tool_call_chunks(delta.tool_calls),
                response_metadata=metadata,
            )
        )
    if not _FAST_PATH:
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content=content,
                additional_kwargs={REASONING_KEY: reasoning} if reasoning else {},
                response_metadata={"model_provider": MODEL_PROVIDER},
            )
        )
    # `defaults.copy()` then stores: the same dict, in field order, as `{**defaults, ...}`, ~0.3 µs sooner
    fields = _CHUNK_DEFAULTS.copy()
    fields["content"] = content
    fields["additional_kwargs"] = {REASONING_KEY: reasoning} if reasoning else {}
    fields["response_metadata"] = {"model_provider": MODEL_PROVIDER}
    fields["tool_calls"] = []
    fields["invalid_tool_calls"] = []
    fields["tool_call_chunks"] = []
    message = _new_chunk(AIMessageChunk)
    _set_dict(message, fields)
    _set_fields_set(
        message,
        {"content", "additional_kwargs", "response_metadata"}
        if reasoning
        else {"content", "response_metadata"},
    )
    _set_extra(message, {})
    _set_private(message, None)
    gen_fields = _GEN_DEFAULTS.copy()
    gen_fields["text"] = content
    gen_fields["message"] = message
    generation = _new_gen(ChatGenerationChunk)
    _set_dict(generation, gen_fields)
    _set_fields_set(generation, {"message"})
    _set_extra(generation, None)
    _set_private(generation, None)
    return generation


def final_chunk(
    delta: ChatDelta, *, model_name: str, gateway: str, usage: bool = True
) -> ChatGenerationChunk:
    """The delta with `finish_reason` → the last chunk: usage (exactly once), metadata, `chunk_position`.

    The core emits finish_reason and usage together on one delta, however often the gateway repeated its
    (cumulative) usage, so usage reaches LangChain's chunk addition exactly once and is never double counted.
    """
    kwargs = {REASONING_KEY: delta.reasoning} if delta.reasoning else {}
    served = delta.gateway or (delta.usage.gateway if delta.usage and delta.usage.gateway else gateway)
    metadata = response_metadata(delta, model_name=model_name, gateway=served)
    message = AIMessageChunk(
        content=delta.content,
        additional_kwargs=kwargs,
        tool_call_chunks=tool_call_chunks(delta.tool_calls),
        usage_metadata=usage_to_metadata(delta.usage) if usage and delta.usage else None,
        response_metadata=metadata,
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message, generation_info={"finish_reason": delta.finish_reason})


def tool_choice_to_wire(
    tool_choice: dict[str, Any] | str | bool | None, tool_names: Sequence[str]
) -> dict[str, Any] | str | None:
    """LangChain's tool_choice spellings → the OpenAI wire value (None: send nothing)."""
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        return "required"
    if isinstance(tool_choice, dict):
        return tool_choice
    if tool_choice in ("any", "required"):
        return "required"
    if tool_choice in ("auto", "none"):
        return tool_choice
    if tool_choice in tool_names:
        return {"type": "function", "function": {"name": tool_choice}}
    raise ValueError(
        f"tool_choice={tool_choice!r} is neither 'auto', 'none', 'any', 'required', True nor the name of a "
        f"bound tool ({', '.join(tool_names) or 'no tools bound'})"
    )


JsonMethod = Literal["json_mode", "json_schema"]
