"""ChatHermes tools, reasoning and images against the loopback replica, sync and async.

Tool calls on every path (native, Hermes prompt mode, `<tool_call>` text left in content by a provider),
APIpie's choices index counting up per chunk while tool-call fragments arrive, invalid JSON kept as invalid
tool calls, reasoning separated and sent back, images as `image_url` parts (or refused before any request).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from hermes_gateway import VisionNotSupportedError
from tests.langchain._support import (
    MODES,
    Multiply,
    chunk,
    finish,
    get_weather,
    invoke,
    merged,
    stream,
)
from tests.replica import Fault, Replica


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("gateway", "model", "tool_mode", "native"),
    [
        ("apipie", "hermes-3-llama-3.1-70b", "native", True),
        ("aimlapi", "hermes-4-70b", "native", True),
        # auto on AI/ML API: native tools unconfirmed there (gateways.md Corrections): the prompt format
        ("aimlapi", "hermes-4-70b", "auto", False),
        ("apipie", "hermes-3-llama-3.1-70b", "hermes", False),
    ],
)
def test_manual_agent_loop_round_trips_tool_call_ids(
    make_llm: Any, replica: Replica, mode: str, gateway: str, model: str, tool_mode: str, native: bool
) -> None:
    llm = make_llm(gateway, model, tool_mode=tool_mode).bind_tools([get_weather, Multiply])
    messages: list[BaseMessage] = [HumanMessage("What is the weather in Paris?")]
    first = invoke(llm, messages, mode)
    assert [c["name"] for c in first.tool_calls] == ["get_weather"]
    call = first.tool_calls[0]
    assert call["args"] == {"location": "Paris"}
    assert call["id"]
    sent = replica[gateway].requests[-1].json
    assert ("tools" in sent) is native
    messages += [first, get_weather.invoke(call)]
    assert isinstance(messages[-1], ToolMessage)
    final = invoke(llm, messages, mode)
    assert not final.tool_calls
    assert "sunny in Paris" in final.content
    history = replica[gateway].requests[-1].json["messages"]
    if native:
        assistant = next(m for m in history if m["role"] == "assistant")
        assert assistant["tool_calls"][0]["id"] == call["id"]
        tool_msg = next(m for m in history if m["role"] == "tool")
        assert tool_msg["tool_call_id"] == call["id"]
    else:
        rendered = json.dumps(history)
        assert "<tool_call>" in rendered
        assert "<tool_response>" in rendered


@pytest.mark.parametrize("mode", MODES)
def test_streamed_tool_calls_with_apipie_index_quirk(make_llm: Any, replica: Replica, mode: str) -> None:
    """APIpie counts choices[].index up per chunk: tool-call fragments must still merge by their own index."""
    replica.apipie.enqueue(
        Fault.script_chunks(
            [
                {
                    **chunk(
                        role="assistant",
                        tool_calls=[
                            {
                                "index": 0,
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ],
                    ),
                },
                {
                    "id": "x",
                    "choices": [
                        {
                            "index": 1,
                            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"loca'}}]},
                        }
                    ],
                },
                {
                    "id": "x",
                    "choices": [
                        {
                            "index": 2,
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": 1,
                                        "id": "call_b",
                                        "type": "function",
                                        "function": {"name": "Multiply", "arguments": '{"a": 6, "b": 7}'},
                                    }
                                ]
                            },
                        }
                    ],
                },
                {
                    "id": "x",
                    "choices": [
                        {
                            "index": 3,
                            "delta": {
                                "tool_calls": [{"index": 0, "function": {"arguments": 'tion": "Rome"}'}}]
                            },
                        }
                    ],
                },
                finish("tool_calls"),
                {
                    "id": "x",
                    "choices": [],
                    "usage": {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18},
                },
                "[DONE]",
            ]
        )
    )
    llm = make_llm(tool_mode="native").bind_tools([get_weather, Multiply])
    chunks = stream(llm, "weather in Rome, and 6 times 7", mode)
    full = merged(chunks)
    assert full.tool_calls == [
        {"name": "get_weather", "args": {"location": "Rome"}, "id": "call_a", "type": "tool_call"},
        {"name": "Multiply", "args": {"a": 6, "b": 7}, "id": "call_b", "type": "tool_call"},
    ]
    indices = {c["index"] for ch in chunks for c in ch.tool_call_chunks}
    assert indices == {0, 1}
    assert full.response_metadata["finish_reason"] == "tool_calls"


@pytest.mark.parametrize("mode", MODES)
def test_invalid_tool_call_json_is_kept_as_invalid(make_llm: Any, replica: Replica, mode: str) -> None:
    bad_call = {
        "id": "call_bad",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location": '},
    }
    replica.apipie.enqueue(
        Fault.script_chunks(
            [
                {
                    "id": "chatcmpl-bad",
                    "object": "chat.completion",
                    "model": "hermes-3-llama-3-1-70b",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": None, "tool_calls": [bad_call]},
                            "finish_reason": "tool_calls",
                        }
                    ],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
                }
            ]
        )
    )
    llm = make_llm(tool_mode="native").bind_tools([get_weather])
    msg = invoke(llm, "weather?", mode)
    assert msg.tool_calls == []
    assert len(msg.invalid_tool_calls) == 1
    invalid = msg.invalid_tool_calls[0]
    assert (invalid["id"], invalid["name"], invalid["args"]) == ("call_bad", "get_weather", '{"location": ')
    # Streamed, a call LangChain's partial-JSON merge cannot read either is kept as invalid too.
    replica.apipie.enqueue(
        Fault.script_chunks(
            [
                chunk(
                    role="assistant",
                    tool_calls=[
                        {**bad_call, "index": 0, "function": {"name": "get_weather", "arguments": "not json"}}
                    ],
                ),
                finish("tool_calls"),
                "[DONE]",
            ]
        )
    )
    full = merged(stream(llm, "weather?", mode))
    assert full.tool_calls == []
    assert [(c["id"], c["args"]) for c in full.invalid_tool_calls] == [("call_bad", "not json")]


@pytest.mark.parametrize("mode", MODES)
def test_text_tool_calls_from_a_provider_become_tool_calls(make_llm: Any, mode: str) -> None:
    """APIpie's Hermes 4 70B (in the replica) answers native `tools` with `<tool_call>` text in content."""
    llm = make_llm("apipie", "hermes-4-70b", tool_mode="native").bind_tools([get_weather])
    for message in (
        invoke(llm, "What is the weather in Oslo?", mode),
        merged(stream(llm, "What is the weather in Oslo?", mode)),
    ):
        assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get_weather", {"location": "Oslo"})]
        assert "<tool_call>" not in message.text
        assert "<think>" not in message.text


@pytest.mark.parametrize("mode", MODES)
def test_reasoning_is_separated_and_sent_back(make_llm: Any, replica: Replica, mode: str) -> None:
    llm = make_llm("aimlapi", "hermes-4-70b").bind_tools([get_weather])
    first = invoke(llm, "What is the weather in Lima?", mode)
    assert first.additional_kwargs["reasoning_content"]
    assert first.content_blocks[0]["type"] == "reasoning"
    streamed = merged(stream(llm, "What is the weather in Lima?", mode))
    assert streamed.additional_kwargs["reasoning_content"] == first.additional_kwargs["reasoning_content"]
    invoke(
        llm,
        [HumanMessage("What is the weather in Lima?"), first, get_weather.invoke(first.tool_calls[0])],
        mode,
    )
    assistant = next(m for m in replica.aimlapi.requests[-1].json["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == first.additional_kwargs["reasoning_content"]
    # Not sent back for models the catalog does not mark as reasoning.
    plain = make_llm("aimlapi", "hermes-3-llama-3.1-70b").bind_tools([get_weather])
    invoke(plain, [HumanMessage("Weather in Lima?"), first, get_weather.invoke(first.tool_calls[0])], mode)
    assistant = next(m for m in replica.aimlapi.requests[-1].json["messages"] if m["role"] == "assistant")
    assert "reasoning_content" not in assistant


def test_reasoning_block_under_output_version_v1(make_llm: Any) -> None:
    llm = make_llm("aimlapi", "hermes-4-70b", output_version="v1")
    msg = llm.invoke("Hello")
    assert [b["type"] for b in msg.content_blocks] == ["reasoning", "text"]
    full = merged(list(llm.stream("Hello")))
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "text"]
    tools = llm.bind_tools([get_weather], tool_choice="any")
    full = merged(list(tools.stream("Weather in Quito?")))
    assert [b["type"] for b in full.content_blocks] == ["reasoning", "tool_call"]
    assert isinstance(full.content, list)  # v1: the blocks are the content
    assert full.tool_calls[0]["args"] == {"location": "Quito"}


# --- images ------------------------------------------------------------------------------------------

_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.mark.parametrize("mode", MODES)
def test_images_reach_a_vision_model_as_image_url_parts(make_llm: Any, replica: Replica, mode: str) -> None:
    llm = make_llm("apipie", "nous-hermes-2-vision-7b")
    message = HumanMessage(
        content=[
            {"type": "text", "text": "Describe this image."},
            {"type": "image", "base64": _PNG, "mime_type": "image/png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ]
    )
    reply = invoke(llm, [message], mode)
    assert "image" in reply.content
    parts = replica.apipie.requests[-1].json["messages"][0]["content"]
    assert parts == [
        {"type": "text", "text": "Describe this image."},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]


@pytest.mark.parametrize("mode", MODES)
def test_images_to_a_text_model_fail_before_any_request(make_llm: Any, replica: Replica, mode: str) -> None:
    llm = make_llm("aimlapi", "hermes-3-llama-3.1-70b")
    message = HumanMessage(
        content=[{"type": "text", "text": "?"}, {"type": "image", "url": "https://x/y.png"}]
    )
    with pytest.raises(VisionNotSupportedError, match="does not accept images"):
        invoke(llm, [message], mode)
    with pytest.raises(VisionNotSupportedError, match="nous-hermes-2-vision-7b"):
        stream(llm, [message], mode)
    assert replica.aimlapi.requests == []


def test_pdf_input_is_a_clear_value_error(make_llm: Any, replica: Replica) -> None:
    message = HumanMessage(content=[{"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf"}])
    with pytest.raises(ValueError, match="'file' content is not supported"):
        make_llm().invoke([message])
    assert replica.apipie.requests == []
