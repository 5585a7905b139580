"""Payloads of the shapes captured from the live gateways (../shared/reference/gateways.md, "Corrections").

Each test names its source. Pure parsing tests feed the payload to the parser; the client tests serve the live
behaviour from the replica (its quirks), so the whole chain is exercised.
"""

from __future__ import annotations

from typing import Any

import pytest

from hermes_gateway import GatewayClient
from hermes_gateway._exceptions import GatewayError
from hermes_gateway._models_api import parse_aimlapi_models, parse_apipie_models
from hermes_gateway._stream import ReplyPipeline
from tests.replica import Fault, Replica

# --- AI/ML API model-list prices ----------------------------------------------------------------------------


def test_aimlapi_live_price_units_origin_provided_generated_cached() -> None:
    # Live unit shape, gateways.md Corrections (aimlapi/models.dev-aimlapi `sync/providers/aimlapi.ts`):
    # {"name":"token","content":"text","origin":"provided","price":0.143,"per":1000000}
    entry = {
        "id": "nousresearch/hermes-4-70b",
        "info": {"name": "Hermes 4 70B"},
        "pricing": {
            "units": [
                {"name": "token", "content": "text", "origin": "provided", "price": 0.143, "per": 1000000},
                {"name": "token", "content": "text", "origin": "generated", "price": 0.429, "per": 1000000},
                {"name": "token", "content": "text", "origin": "cached", "price": 0.01, "per": 1000000},
            ]
        },
    }
    (model,) = parse_aimlapi_models({"object": "list", "data": [entry]})
    assert model.input_per_mtok == pytest.approx(0.143)  # USD per 1M tokens
    assert model.output_per_mtok == pytest.approx(0.429)  # the cached rate is not the input rate


def test_aimlapi_documented_measure_shape_and_per_thousand() -> None:
    # The documented older shape (gateways.md Corrections): `"measure": "output"`; `per` read with `price`.
    units = [
        {"name": "token", "measure": "input", "price": 0.00013, "per": 1000},
        {"name": "token", "measure": "output", "price": 0.0004, "per": 1000},
    ]
    (model,) = parse_aimlapi_models([{"id": "nousresearch/hermes-4-70b", "pricing": {"units": units}}])
    assert model.input_per_mtok == pytest.approx(0.13)
    assert model.output_per_mtok == pytest.approx(0.40)


def test_aimlapi_image_token_units_are_not_text_prices() -> None:
    units = [
        {"name": "token", "content": "image", "origin": "provided", "price": 9.0, "per": 1000000},
        {"name": "token", "content": "text", "origin": "provided", "price": 0.2, "per": 1000000},
    ]
    (model,) = parse_aimlapi_models([{"id": "m", "pricing": {"units": units}}])
    assert model.input_per_mtok == pytest.approx(0.2)
    assert model.output_per_mtok is None
    assert model.price is None  # half a price is no price


# --- APIpie /v1/models/detailed and the old list shape -----------------------------------------------------


def test_apipie_detailed_top_level_modalities_and_advertised_prices() -> None:
    # Live /v1/models/detailed (gateways.md Corrections; charmbracelet/catwalk `cmd/apipie` decodes it):
    # top-level input_modalities / output_modalities; `pricing.confirmed` empty → `advertised` per token.
    entry = {
        "id": "nous-hermes-2-vision-7b",
        "model": "nousresearch/nous-hermes-2-vision-7b",
        "provider": "openrouter",
        "type": "llm",
        "input_modalities": ["text", "image"],
        "output_modalities": ["text"],
        "pricing": {
            "confirmed": {},
            "advertised": {"input_cost_per_token": "0.0000002", "output_cost_per_token": 0.0000004},
        },
        "supported_input_parameters": ["max_tokens", "temperature"],
    }
    (model,) = parse_apipie_models({"data": [entry]})
    assert model.vision is True  # read from the top level, not `modalities.input`
    assert model.input_per_mtok == pytest.approx(0.2)
    assert model.output_per_mtok == pytest.approx(0.4)


def test_apipie_confirmed_prices_win_over_advertised() -> None:
    entry = {
        "id": "hermes-4-70b",
        "pricing": {
            "confirmed": {"input_cost": "0.13", "output_cost": "0.40"},
            "advertised": {"input_cost_per_token": "0.000001", "output_cost_per_token": "0.000001"},
        },
    }
    (model,) = parse_apipie_models([entry])
    assert (model.input_per_mtok, model.output_per_mtok) == (0.13, 0.40)


def test_apipie_old_list_entry_without_id_sends_model_not_route() -> None:
    # APIpie's 2024 Fetch Models docs (neuronic-ai/APIpie.ai-docs docs/api/Models/fetchmodels.md): no `id`;
    # `model` is the base model name, `route` the provider-specific identifier.
    entry = {
        "enabled": 1,
        "type": "llm",
        "subtype": None,
        "provider": "openrouter",
        "model": "nous-capybara-7b",
        "route": "nousresearch/nous-capybara-7b",
        "max_tokens": 4096,
        "max_response_tokens": 4096,
        "req_price": "0.0000001800000000",
        "res_price": "0.0000001800000000",
        "price_type": "token",
        "available": 1,
    }
    (model,) = parse_apipie_models({"object": "list", "data": [entry]})
    assert model.id == "nous-capybara-7b"
    assert model.name == "nousresearch/nous-capybara-7b"
    assert model.input_per_mtok == pytest.approx(0.18)


# --- AI/ML API streams --------------------------------------------------------------------------------------


def _sse(*chunks: dict[str, Any]) -> bytes:
    import json

    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


_BASE = {"id": "gen-1", "object": "chat.completion.chunk", "model": "nousresearch/hermes-4-405b"}
_USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def test_aimlapi_usage_on_finish_chunk_then_null_is_counted_once() -> None:
    # Live AI/ML API capture (gateways.md Corrections): usage on the finish chunk, then `"usage": null`, and
    # no `data: [DONE]`.
    body = _sse(
        {**_BASE, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]},
        {**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": _USAGE},
        {**_BASE, "choices": [], "usage": None},
    )
    pipeline = ReplyPipeline(gateway="aimlapi")
    deltas = pipeline.feed(body) + pipeline.finish()
    finals = [d for d in deltas if d.usage is not None]
    assert len(finals) == 1  # once
    usage = finals[0].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 5, 17)  # not erased
    assert "".join(d.content for d in deltas) == "Hi"


def test_aimlapi_usage_on_a_choices_empty_chunk_without_done() -> None:
    # The other live capture shape: usage on a `choices: []` chunk; the stream ends without [DONE].
    body = _sse(
        {**_BASE, "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**_BASE, "choices": [], "usage": _USAGE},
    )
    pipeline = ReplyPipeline(gateway="aimlapi")
    deltas = pipeline.feed(body) + pipeline.finish()  # no StreamInterruptedError: this is the normal end
    assert deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.total_tokens == 17


@pytest.mark.parametrize("quirks", [("usage_then_null",), ("usage_then_null", "no_done")])
def test_client_counts_live_aimlapi_stream_usage_once(replica: Replica, quirks: tuple[str, ...]) -> None:
    replica.aimlapi.set_quirks(*quirks)
    client = GatewayClient("aimlapi", api_key="k", base_url=replica.aimlapi.base_url)
    request = {"model": "nousresearch/hermes-4-405b", "messages": [{"role": "user", "content": "Hi"}]}
    with client.stream(request) as stream:  # type: ignore[arg-type]
        deltas = list(stream)
    with_usage = [d.usage for d in deltas if d.usage is not None]
    assert len(with_usage) == 1
    assert with_usage[0].completion_tokens > 0
    assert with_usage[0].prompt_tokens > 0


# --- AI/ML API cost and request id headers ------------------------------------------------------------------


def test_cost_from_x_aimlapi_usd_spent_when_the_body_has_no_meta(replica: Replica) -> None:
    # Live Hermes-4-405B reply (2025-09, gateways.md Corrections): no `meta`, no `system_fingerprint`,
    # `reasoning_content: null`; the cost is in `x-aimlapi-usd-spent`, the request in `x-inference-id`.
    replica.aimlapi.set_quirks("no_meta")
    client = GatewayClient("aimlapi", api_key="k", base_url=replica.aimlapi.base_url)
    result = client.chat(
        {"model": "nousresearch/hermes-4-405b", "messages": [{"role": "user", "content": "Hi"}]}
    )
    assert result.usage is not None
    assert result.usage.cost_usd is not None
    assert result.usage.cost_usd > 0
    assert "meta" not in result.usage.raw  # the body really had none: the header gave the cost
    assert result.request_id is not None
    assert result.request_id.startswith("inf-")


def test_header_cost_never_overrides_the_body() -> None:
    pipeline = ReplyPipeline(gateway="aimlapi")
    pipeline.read_headers({"x-aimlapi-usd-spent": "0.5", "x-inference-id": "inf-1"})
    completion = {
        "id": "x",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": _USAGE,
        "meta": {"usage": {"credits_used": 1892, "usd_spent": 0.000946}},
    }
    deltas = pipeline.feed_completion(completion) + pipeline.finish()
    usage = deltas[-1].usage
    assert usage is not None
    assert usage.cost_usd == pytest.approx(0.000946)
    assert deltas[-1].request_id == "inf-1"


@pytest.mark.parametrize("value", ["n/a", "-1", "nan"])
def test_a_junk_cost_header_is_unknown(value: str) -> None:
    pipeline = ReplyPipeline(gateway="aimlapi")
    pipeline.read_headers({"x-aimlapi-usd-spent": value})
    completion = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": _USAGE}
    deltas = pipeline.feed_completion(completion) + pipeline.finish()
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.cost_usd is None


def test_x_inference_id_is_the_request_id_of_an_error(replica: Replica) -> None:
    replica.aimlapi.enqueue(Fault.error(400, "Body validation error!", headers={"x-inference-id": "inf-42"}))
    client = GatewayClient("aimlapi", api_key="k", base_url=replica.aimlapi.base_url, max_retries=0)
    with pytest.raises(GatewayError) as caught:
        client.chat({"model": "nousresearch/hermes-4-405b", "messages": [{"role": "user", "content": "Hi"}]})
    assert caught.value.request_id == "inf-42"
    assert "Body validation error!" in str(caught.value)


def test_apipie_mem_clear_answer_is_read_as_a_reply() -> None:
    # APIpie docs/Features/IMM.md, "Clearing Memory": the answer has no `choices`.
    answer = {
        "queryResults": "Memory session deleted successfully",
        "queryDetails": {
            "provider": "openai",
            "route": "gpt-4o",
            "promptTokens": 0,
            "responseTokens": 0,
            "promptChar": 0,
            "responseChar": 31,
            "cost": 0,
            "latencyMs": 0,
        },
    }
    pipeline = ReplyPipeline(gateway="apipie")
    deltas = pipeline.feed_completion(answer) + pipeline.finish()
    assert "".join(d.content for d in deltas) == "Memory session deleted successfully"
    assert deltas[-1].finish_reason == "stop"
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.cost_usd == 0.0
