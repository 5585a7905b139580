"""The "hermes" content-block translator: ChatHermes messages → LangChain v1 standard content blocks.

Registered with langchain-core under `model_provider="hermes"` when this package is imported. Why not rely on
core's best-effort parsing: streamed under `output_version="v1"`, best effort gives reasoning and text blocks
positional integer indices (0, 1, ...) while tool-call chunks keep their own integer `index` (0 for the first
call), so a reasoning or text block and the first tool call share index 0 and LangChain's merge fuses them —
the tool call disappears from the aggregated content. Here every block kind gets its own `lc_`-prefixed index
(`lc_rs_0`, `lc_txt_0`, `lc_tc_<n>`), which merges each kind with itself and never across kinds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from langchain_core.messages import content as types
from langchain_core.messages.block_translators import register_translator

from ._convert import MODEL_PROVIDER, REASONING_KEY

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, AIMessageChunk, InvalidToolCall

_REASONING_INDEX = "lc_rs_0"
_TEXT_INDEX = "lc_txt_0"


def _tool_call_index(index: Any) -> str:
    return f"lc_tc_{index}"


def _lead_blocks(message: AIMessage, *, indexed: bool) -> list[types.ContentBlock]:
    """Reasoning first, then the text (or, for list content, its text and image blocks as they are)."""
    blocks: list[types.ContentBlock] = []
    reasoning = message.additional_kwargs.get(REASONING_KEY)
    if isinstance(reasoning, str) and reasoning:
        block: types.ReasoningContentBlock = {"type": "reasoning", "reasoning": reasoning}
        if indexed:
            block["index"] = _REASONING_INDEX
        blocks.append(block)
    content = message.content
    if isinstance(content, str):
        if content:
            text: types.TextContentBlock = {"type": "text", "text": content}
            if indexed:
                text["index"] = _TEXT_INDEX
            blocks.append(text)
        return blocks
    for item in content:
        if isinstance(item, str):
            if item:
                blocks.append(types.TextContentBlock(type="text", text=item))
        elif item.get("type") in ("text", "image", "reasoning"):
            # Already a standard block of one of these kinds; passed through as is.
            blocks.append(cast("types.ContentBlock", item))
    return blocks


def _invalid_block(bad: InvalidToolCall) -> types.InvalidToolCall:
    return {
        "type": "invalid_tool_call",
        "name": bad.get("name"),
        "args": bad.get("args"),
        "id": bad.get("id"),
        "error": bad.get("error"),
    }


def translate_content(message: AIMessage) -> list[types.ContentBlock]:
    blocks = _lead_blocks(message, indexed=False)
    for call in message.tool_calls:
        blocks.append(
            types.ToolCall(type="tool_call", name=call["name"], args=call["args"], id=call.get("id"))
        )
    blocks.extend(_invalid_block(bad) for bad in message.invalid_tool_calls)
    return blocks


def translate_content_chunk(chunk: AIMessageChunk) -> list[types.ContentBlock]:
    blocks = _lead_blocks(chunk, indexed=True)
    if chunk.chunk_position == "last":
        # Complete: either the whole aggregated stream or a final chunk carrying finished calls.
        by_id = {c.get("id"): c.get("index") for c in chunk.tool_call_chunks}
        for call in chunk.tool_calls:
            block: types.ToolCall = {
                "type": "tool_call",
                "name": call["name"],
                "args": call["args"],
                "id": call.get("id"),
            }
            if (index := by_id.get(call.get("id"))) is not None:
                block["index"] = _tool_call_index(index)
            blocks.append(block)
        blocks.extend(_invalid_block(bad) for bad in chunk.invalid_tool_calls)
        return blocks
    for part in chunk.tool_call_chunks:
        piece: types.ToolCallChunk = {
            "type": "tool_call_chunk",
            "id": part.get("id"),
            "name": part.get("name"),
            "args": part.get("args"),
        }
        if (index := part.get("index")) is not None:
            piece["index"] = _tool_call_index(index)
        blocks.append(piece)
    return blocks


def register() -> None:
    register_translator(MODEL_PROVIDER, translate_content, translate_content_chunk)


register()
