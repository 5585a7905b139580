"""Chunk dicts → deltas through the reply pipeline: every gateway quirk, and the one-final-delta rule."""

from __future__ import annotations

import pytest

from hermes_gateway import (
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    ServerError,
    StreamInterruptedError,
)
from hermes_gateway._chunks import ChunkConverter

from ._wire_fixtures import completion_result, content_chunk, finish_chunk, result_of, run, sse, usage_chunk


def test_apipie_stream_with_counting_choice_index_and_string_cost() -> None:
    # APIpie: choices[].index counts up per chunk, system_fingerprint is the string "null", provider on
    # chunks, a final usage-only chunk with choices [] and cost as a numeric string.
    chunks = [
        content_chunk(word, index=i, provider="openrouter", system_fingerprint="null")
        for i, word in enumerate(["Hel", "lo", "!"])
    ]
    body = sse(*chunks, finish_chunk(), usage_chunk(13, 3, cost="0.00199500", latency_ms=2727))
    deltas = run(body)
    assert [d.content for d in deltas[:-1]] == ["Hel", "lo", "!"]
    final = deltas[-1]
    assert (final.content, final.finish_reason, final.id, final.provider) == (
        "",
        "stop",
        "gen-1",
        "openrouter",
    )
    assert final.model == "nousresearch/hermes-3-llama-3.1-70b"
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.total_tokens) == (13, 3, 16)
    assert final.usage.cost_usd == pytest.approx(0.001995)
    assert final.usage.latency_ms == 2727.0  # the gateway's own figure wins over the measured 12.5
    assert final.usage.raw["cost"] == "0.00199500"
    assert all(d.finish_reason is None and d.usage is None for d in deltas[:-1])


def test_usage_repeated_cumulatively_is_reported_once_the_last() -> None:
    body = sse(
        content_chunk("a", usage={"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}),
        content_chunk("b", usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
        finish_chunk(),
        usage_chunk(5, 3),
    )
    deltas = run(body)
    with_usage = [d for d in deltas if d.usage is not None]
    assert len(with_usage) == 1
    assert with_usage[0] is deltas[-1]
    assert with_usage[0].usage is not None
    assert with_usage[0].usage.completion_tokens == 3


def test_eos_finish_reason_is_normalised_and_missing_done_after_finish_is_clean() -> None:
    deltas = run(sse(content_chunk("x"), finish_chunk("eos"), done=False))
    assert deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage is None  # no usage sent: none invented


def test_stream_without_finish_reason_or_done_is_interrupted() -> None:
    with pytest.raises(StreamInterruptedError):
        run(sse(content_chunk("partial"), done=False))


def test_done_without_finish_reason_is_a_clean_end() -> None:
    assert run(sse(content_chunk("x")))[-1].finish_reason is None


def test_last_event_cut_mid_json_is_an_interruption_not_a_bad_chunk() -> None:
    with pytest.raises(StreamInterruptedError):
        run(sse(content_chunk("x"), done=False) + b'data: {"id": "gen-1", "choi')


def test_malformed_json_chunk_raises_invalid_response() -> None:
    with pytest.raises(InvalidResponseError) as info:
        run(sse(content_chunk("x"), "data: {not json}", finish_chunk()))
    assert info.value.status_code == 200
    assert "malformed" in info.value.message


def test_error_object_in_a_200_chunk_is_typed() -> None:
    upstream = {"error": {"message": "Provider returned error", "code": 502}}
    with pytest.raises(ServerError) as info:
        run(sse(content_chunk("x"), upstream))
    assert info.value.message == "Provider returned error"
    assert info.value.status_code == 502
    with pytest.raises(InsufficientCreditsError):
        run(sse({"error": {"message": "Insufficient credits to run this request"}}))
    with pytest.raises(GatewayError) as plain:
        run(sse({"error": {"message": "something odd"}}))
    assert type(plain.value) is GatewayError
    assert plain.value.status_code == 200


def test_reasoning_fields_and_think_tags_become_reasoning() -> None:
    body = sse(
        {"id": "r", "choices": [{"delta": {"reasoning": "let me see"}}]},
        {"id": "r", "choices": [{"delta": {"reasoning_content": ", ok"}}]},
        content_chunk("<think>inline</th"),
        content_chunk("ink>Answer"),
        finish_chunk(),
    )
    result = result_of(body)
    assert result.reasoning == "let me see, okinline"
    assert result.content == "Answer"


def test_tool_call_fragments_omitting_index_id_and_function() -> None:
    first = {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    body = sse(
        {"id": "t", "choices": [{"delta": {"role": "assistant", "tool_calls": [first]}}]},
        {"id": "t", "choices": [{"delta": {"tool_calls": [{"function": {"arguments": '{"city": '}}]}}]},
        {
            "id": "t",
            "choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}}],
        },
        {"id": "t", "choices": [{"delta": {"tool_calls": [{"id": "call_b", "function": {"name": "now"}}]}}]},
        {"id": "t", "choices": [{"delta": {"tool_calls": []}, "finish_reason": "tool_calls"}]},
    )
    deltas = run(body)
    calls = [call for d in deltas for call in d.tool_calls]
    assert [(c.index, c.id, c.name) for c in calls if c.id] == [
        (0, "call_a", "get_weather"),
        (1, "call_b", "now"),
    ]
    result = result_of(body)
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("call_a", "get_weather", '{"city": "Paris"}'),
        ("call_b", "now", "{}"),
    ]
    assert result.finish_reason == "tool_calls"


def test_a_new_id_at_a_known_index_is_a_new_call() -> None:
    calls = [
        {"index": 0, "id": "c1", "function": {"name": "a", "arguments": "{}"}},
        {"index": 0, "id": "c2", "function": {"name": "b", "arguments": "{}"}},
    ]
    body = sse(*({"id": "x", "choices": [{"delta": {"tool_calls": [c]}}]} for c in calls), finish_chunk())
    assert [(c.id, c.name) for c in result_of(body).tool_calls] == [("c1", "a"), ("c2", "b")]


def test_native_call_without_id_gets_a_fresh_id_per_reply() -> None:
    # Issue 12: ids were hashed from the response id, so a server repeating its ids repeated call ids too.
    chunk = {"id": "gen-9", "choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": "f"}}]}}]}
    body = sse(chunk, finish_chunk())
    first, second = result_of(body).tool_calls[0].id, result_of(body).tool_calls[0].id
    assert first.startswith("call_")
    assert len(first) == len("call_") + 24
    assert first != second


def test_hermes_text_tool_calls_are_numbered_after_native_ones() -> None:
    native = {"index": 0, "id": "call_n", "function": {"name": "native_fn", "arguments": "{}"}}
    text = '<tool_call>{"name": "text_fn", "arguments": {"q": 1}}</tool_call>'
    body = sse(
        {"id": "h", "choices": [{"delta": {"tool_calls": [native]}}]},
        content_chunk(text[:15], id="h"),
        content_chunk(text[15:], id="h"),
        finish_chunk("stop", id="h"),
    )
    result = result_of(body, parse_tool_calls=True)
    assert [(c.name, c.id, c.index) for c in result.tool_calls[:1]] == [("native_fn", "call_n", 0)]
    assert (result.tool_calls[1].name, result.tool_calls[1].index) == ("text_fn", 1)
    assert result.tool_calls[1].id.startswith("call_")
    assert result.tool_calls[1].args == {"q": 1}
    assert result.tool_calls[1].arguments.replace(" ", "") == '{"q":1}'
    assert result.content == ""
    assert result.finish_reason == "tool_calls"


def test_tool_call_text_is_content_when_the_request_had_no_tools() -> None:
    text = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    result = result_of(sse(content_chunk(text), finish_chunk()))
    assert result.content == text
    assert result.tool_calls == []


def test_aimlapi_completion_with_empty_tool_calls_and_meta_cost() -> None:
    payload = {
        "id": "npNsb7U-z1gNr-92d8a505afd7ef73",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "logprobs": None,
                "message": {"role": "assistant", "content": "Hello! How can I help?", "tool_calls": []},
            }
        ],
        "created": 1744187449,
        "model": "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        "usage": {"prompt_tokens": 14, "completion_tokens": 52, "total_tokens": 66},
        "meta": {"usage": {"credits_used": 1892, "usd_spent": 0.000946}},
    }
    result = completion_result(payload, gateway="aimlapi")
    assert (result.content, result.finish_reason, result.tool_calls) == ("Hello! How can I help?", "stop", [])
    assert result.usage is not None
    assert result.usage.cost_usd == pytest.approx(0.000946)
    assert result.usage.latency_ms == 3.0  # measured, as AI/ML API reports none
    assert result.usage.raw["meta"]["usage"]["credits_used"] == 1892
    assert (result.gateway, result.id, result.model) == ("aimlapi", payload["id"], payload["model"])


def test_completion_with_tool_calls_without_index_are_separate_calls() -> None:
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"type": "function", "function": {"name": "a", "arguments": "{}"}},
            {"type": "function", "function": {"name": "b", "arguments": '{"x": 1}'}},
        ],
    }
    payload = {"id": "c", "choices": [{"message": message, "finish_reason": "tool_calls"}]}
    result = completion_result(payload)
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("a", "{}"), ("b", '{"x": 1}')]
    assert len({c.id for c in result.tool_calls}) == 2


def test_completion_carrying_an_error_object_is_typed() -> None:
    with pytest.raises(GatewayError) as info:
        completion_result({"error": {"message": "model overloaded", "code": 503}})
    assert isinstance(info.value, ServerError)
    assert info.value.message == "model overloaded"


def test_no_usage_means_no_usage_and_no_pretend_cost() -> None:
    result = completion_result(
        {"id": "n", "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]}
    )
    assert result.usage is None


def test_usage_without_cost_has_cost_none() -> None:
    result = result_of(sse(content_chunk("x"), finish_chunk(), usage_chunk()))
    assert result.usage is not None
    assert result.usage.cost_usd is None


def test_several_json_chunks_on_consecutive_data_lines_are_each_read() -> None:
    import json

    two = "data: " + json.dumps(content_chunk("a")) + "\ndata: " + json.dumps(content_chunk("b"))
    result = result_of(two.encode() + b"\n\n" + sse(finish_chunk()))
    assert result.content == "ab"


def test_converter_keeps_reply_facts() -> None:
    converter = ChunkConverter("apipie")
    assert (
        converter.convert({"id": "a", "provider": "together", "choices": [{"delta": {"role": "assistant"}}]})
        is None
    )
    assert (converter.id, converter.provider) == ("a", "together")
    delta = converter.convert({"id": "b", "choices": [{"index": 57, "delta": {"content": "x"}}]})
    assert delta is not None
    assert delta.content == "x"
    assert converter.id == "a"
