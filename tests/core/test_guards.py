"""The context and vision guards: the pure estimate and rules, then through the client (no request leaves).

The client tests use an httpx.MockTransport that records every request, so "before any I/O" is checked by
the transport seeing nothing, through the sync and the async path alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hermes_gateway import (
    BadRequestError,
    ChatRequest,
    ContextWindowExceededError,
    GatewayClient,
    GatewayError,
    VisionNotSupportedError,
    estimate_prompt_tokens,
    lookup,
)
from hermes_gateway._constants import CONTEXT_GUARD_MARGIN, IMAGE_TOKEN_ESTIMATE, MESSAGE_TOKEN_OVERHEAD
from hermes_gateway._gateways import get_dialect
from hermes_gateway._guards import check_context, check_vision, vision_models
from hermes_gateway._request import prepare_request
from tests.replica import Fault, Replica

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "iVBORw0KGgo" * 5000}}
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look something up. " * 2000,
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def words(tokens: int) -> str:
    """Text the estimate counts as exactly `tokens` tokens: `abcd ` is four non-space characters."""
    return "abcd " * tokens


# -- the estimate --------------------------------------------------------------------------------------------


def test_estimate_counts_non_whitespace_characters_per_four() -> None:
    assert estimate_prompt_tokens([user(words(1000))]) == 1000 + MESSAGE_TOKEN_OVERHEAD
    assert estimate_prompt_tokens([user(words(10)), {"role": "assistant", "content": words(20)}]) == (
        30 + 2 * MESSAGE_TOKEN_OVERHEAD
    )


def test_estimate_is_low_for_whitespace_and_repeated_characters() -> None:
    assert estimate_prompt_tokens([user(" \n\t" * 10_000)]) == MESSAGE_TOKEN_OVERHEAD
    assert estimate_prompt_tokens([user("=" * 100_000)]) == 1 + MESSAGE_TOKEN_OVERHEAD  # a run counts as 4


def test_images_count_a_fixed_amount_and_their_base64_counts_nothing() -> None:
    messages = [user([{"type": "text", "text": words(5)}, IMAGE, IMAGE])]
    assert estimate_prompt_tokens(messages) == 5 + 2 * IMAGE_TOKEN_ESTIMATE + MESSAGE_TOKEN_OVERHEAD


def test_audio_parts_count_nothing() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "UklGR" * 10_000, "format": "wav"}}
    assert estimate_prompt_tokens([user([audio])]) == MESSAGE_TOKEN_OVERHEAD


def test_tools_and_tool_calls_count() -> None:
    with_tools = estimate_prompt_tokens([user("hi")], [TOOL])
    assert with_tools > estimate_prompt_tokens([user("hi")]) + 2000 * 3 // 4
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "lookup", "arguments": json.dumps({"q": words(50)})},
    }
    assert estimate_prompt_tokens([{"role": "assistant", "content": None, "tool_calls": [call]}]) >= 50


@given(st.lists(st.text(max_size=300), max_size=8))
def test_the_careful_estimate_never_exceeds_the_quick_one(texts: list[str]) -> None:
    messages = [user(t) for t in texts]
    assert estimate_prompt_tokens(messages) <= estimate_prompt_tokens(messages, careful=False)


# -- the context rule ----------------------------------------------------------------------------------------

OPENHERMES = lookup("openhermes-2.5-mistral-7b")  # a 4096-token window


def fits(messages: list[dict[str, Any]], *, max_tokens: int | None = None) -> bool:
    try:
        check_context(
            messages,
            None,
            OPENHERMES,
            model="openhermes-2.5-mistral-7b",
            gateway="apipie",
            max_tokens=max_tokens,
        )
    except ContextWindowExceededError:
        return False
    return True


def test_context_rule_fires_only_clearly_over_the_window() -> None:
    assert OPENHERMES is not None
    limit = int(OPENHERMES.context_window * CONTEXT_GUARD_MARGIN)
    assert fits([user(words(limit - MESSAGE_TOKEN_OVERHEAD))])
    assert not fits([user(words(limit - MESSAGE_TOKEN_OVERHEAD + 1))])
    assert fits([user(words(OPENHERMES.context_window))])  # at the window: the gateway decides


def test_max_tokens_alone_never_makes_it_fire() -> None:
    assert fits([user(words(3500))], max_tokens=4096)  # some providers clamp max_tokens: it may still run


def test_context_error_carries_the_numbers() -> None:
    with pytest.raises(ContextWindowExceededError) as info:
        check_context(
            [user(words(10_000))],
            None,
            OPENHERMES,
            model="openhermes-2.5-mistral-7b",
            gateway="apipie",
            max_tokens=256,
        )
    error = info.value
    assert error.prompt_tokens == 10_000 + MESSAGE_TOKEN_OVERHEAD
    assert error.context_window == 4096
    assert error.max_tokens == 256
    assert error.gateway == "apipie"
    assert error.status_code is None  # nothing was sent
    assert "10,003 tokens" in error.message
    assert "4,096-token context window of openhermes-2.5-mistral-7b" in error.message
    assert isinstance(error, BadRequestError)


def test_unknown_models_are_never_guarded() -> None:
    body = prepare_request(
        {"model": "some-new-model", "messages": [user(words(1_000_000)), user([IMAGE])]},
        dialect=get_dialect("apipie"),
        info=None,
    )
    assert body.info is None


def test_hermes_prompt_mode_counts_the_rendered_tool_prompt() -> None:
    big_tools = [TOOL] * 3  # ~4500 tokens of descriptions: over 4096 * 1.1 once rendered into the prompt
    request: ChatRequest = {
        "model": "openhermes-2.5-mistral-7b",
        "messages": [user("hi")],
        "tools": big_tools,
    }
    with pytest.raises(ContextWindowExceededError):
        prepare_request(request, dialect=get_dialect("apipie"), info=OPENHERMES, tool_mode="hermes")
    with pytest.raises(ContextWindowExceededError):
        prepare_request(request, dialect=get_dialect("apipie"), info=OPENHERMES, tool_mode="native")


# -- the vision rule -----------------------------------------------------------------------------------------


def test_vision_models_come_from_the_catalog() -> None:
    assert vision_models("apipie") == [("nous-hermes-2-vision-7b", "apipie")]
    assert vision_models("aimlapi") == []
    assert vision_models() == [("nous-hermes-2-vision-7b", "apipie")]


def test_images_to_a_text_model_name_the_vision_model() -> None:
    info = lookup("hermes-3-llama-3.1-70b")
    with pytest.raises(VisionNotSupportedError) as raised:
        check_vision([user([IMAGE])], info, model="nousresearch/hermes-3-llama-3.1-70b", gateway="aimlapi")
    error = raised.value
    assert isinstance(error, ValueError)
    assert isinstance(error, BadRequestError)
    assert error.model == "nousresearch/hermes-3-llama-3.1-70b"
    assert "does not accept images" in error.message
    assert "model='nous-hermes-2-vision-7b' with gateway='apipie'" in error.message


def test_images_to_a_vision_model_or_an_unknown_model_pass() -> None:
    check_vision(
        [user([IMAGE])], lookup("nous-hermes-2-vision-7b"), model="nous-hermes-2-vision-7b", gateway="apipie"
    )
    check_vision([user([IMAGE])], None, model="new-model", gateway="apipie")
    check_vision([user("no image here")], lookup("hermes-4-70b"), model="hermes-4-70b", gateway="apipie")


# -- through the client: raised before any request -----------------------------------------------------------


class Refuse:
    """A transport handler that records requests; the guards must keep it empty."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(500, json={"error": {"message": "should not have been called"}})


def run(client: GatewayClient, request: ChatRequest, driver: str, *, streaming: bool) -> None:
    if driver == "sync":
        if streaming:
            with client.stream(request) as s:
                list(s)
        else:
            client.chat(request)
        return

    async def go() -> None:
        if streaming:
            async with client.astream(request) as s:
                _ = [d async for d in s]
        else:
            await client.achat(request)

    asyncio.run(go())


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
@pytest.mark.parametrize(
    ("gateway", "request_", "error"),
    [
        (
            "apipie",
            {"model": "hermes-3-llama-3.1-70b", "messages": [user(words(150_000))]},
            ContextWindowExceededError,
        ),
        ("aimlapi", {"model": "hermes-4-70b", "messages": [user([IMAGE])]}, VisionNotSupportedError),
        ("openai", {"model": "hermes3:8b", "messages": [user(words(150_000))]}, ContextWindowExceededError),
    ],
    ids=["context", "vision", "local-context"],
)
def test_guards_raise_before_any_request(
    driver: str, streaming: bool, gateway: str, request_: ChatRequest, error: type[GatewayError]
) -> None:
    handler = Refuse()
    transport = httpx.MockTransport(handler)
    base_url = "http://127.0.0.1:11434/v1" if gateway == "openai" else None
    client = GatewayClient(
        gateway, api_key="sk-x", base_url=base_url, transport=transport, async_transport=transport
    )
    with pytest.raises(error):
        run(client, request_, driver, streaming=streaming)
    assert handler.requests == []
    client.close()


def test_the_gateways_own_context_error_is_typed_with_its_numbers(replica: Replica, driver: str) -> None:
    message = (
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
        "(8000 in the messages, 1000 in the completion). Please reduce the length of the messages."
    )
    replica.apipie.enqueue(Fault.error(400, message))
    client = GatewayClient("apipie", api_key="sk-x", base_url=replica.apipie.base_url, max_retries=0)
    request: ChatRequest = {
        "model": "hermes-2-pro-llama-3-8b",
        "messages": [user(words(7000))],
    }  # passes the guard
    with pytest.raises(ContextWindowExceededError) as info:
        run(client, request, driver, streaming=driver == "async")
    assert info.value.status_code == 400
    assert info.value.context_window == 8192
    assert info.value.prompt_tokens == 8000
    assert info.value.max_tokens == 1000
    assert len(replica.apipie.requests) == 1
    client.close()
