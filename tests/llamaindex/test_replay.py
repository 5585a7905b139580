"""`Hermes` end to end over recorded HTTP: chat / complete / stream, sync and async, both gateways, usage,
reasoning, images, and the secrets check on callback payloads.

Cassettes: cassettes/replica/llamaindex/ (re-record with
`python -m tests.record_cassettes --target replica tests/llamaindex`). Assertions are about shapes a real
Hermes model produces too (non-empty text, usage that adds up, deltas that add up to the message), never
about exact sentences.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from llama_index.core.base.llms.types import ImageBlock, TextBlock, ThinkingBlock
from llama_index.core.callbacks import CallbackManager, CBEventType, TokenCountingHandler
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.llms import ChatMessage
from llama_index_instrumentation import get_dispatcher

from hermes_gateway import VisionNotSupportedError
from llamaindex_hermes import Hermes
from tests import cassette_support

CASSETTE_SUITE = "llamaindex"
GATEWAYS = ["apipie", "aimlapi"]
MODEL = "hermes-3-llama-3.1-70b"
HELLO = [ChatMessage(role="user", content="Hello there! Say hello back in one sentence.")]


def make_llm(gateway: str, model: str = MODEL, **kwargs: Any) -> Hermes:
    return Hermes(
        model=model,
        gateway=gateway,
        base_url=cassette_support.gateway_base_url(gateway),
        api_key=cassette_support.gateway_api_key(gateway),
        **kwargs,
    )


def assert_usage(response: Any) -> None:
    usage = response.raw["usage"]
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert response.additional_kwargs[key] == usage[key]
    assert "cost_usd" in response.additional_kwargs


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_chat(gateway: str) -> None:
    response = make_llm(gateway).chat(HELLO)
    assert response.message.role == "assistant"
    assert isinstance(response.message.content, str)
    assert response.message.content.strip()
    assert response.raw["finish_reason"] == "stop"
    assert response.raw["gateway"] == gateway
    assert_usage(response)


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_stream_chat(gateway: str) -> None:
    chunks = list(make_llm(gateway).stream_chat(HELLO))
    assert len(chunks) > 2
    text = "".join(chunk.delta or "" for chunk in chunks)
    assert text.strip()
    assert chunks[-1].message.content == text
    assert [c.message.content for c in chunks[:3]] == [
        "".join(c.delta or "" for c in chunks[: i + 1]) for i in range(3)
    ]
    assert all(chunk.raw is None for chunk in chunks[:-1])  # usage once, on the last chunk
    assert_usage(chunks[-1])


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", GATEWAYS)
async def test_async_chat_and_stream(gateway: str) -> None:
    llm = make_llm(gateway)
    response = await llm.achat(HELLO)
    assert response.message.content
    assert_usage(response)
    stream = await llm.astream_chat(HELLO)
    assert hasattr(stream, "__aiter__")
    chunks = [chunk async for chunk in stream]
    assert len(chunks) > 2
    assert chunks[-1].message.content == "".join(c.delta or "" for c in chunks)
    assert_usage(chunks[-1])
    await llm.aclose()


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", GATEWAYS)
def test_complete_and_stream_complete(gateway: str) -> None:
    llm = make_llm(gateway)
    completion = llm.complete("Hello there! Say hello back in one sentence.")
    assert completion.text.strip()
    assert completion.raw["usage"]["total_tokens"] > 0
    pieces = list(llm.stream_complete("Hello there! Say hello back in one sentence."))
    assert pieces[-1].text == "".join(p.delta or "" for p in pieces)
    assert pieces[-1].raw["usage"]["completion_tokens"] > 0


@pytest.mark.vcr
@pytest.mark.parametrize("gateway", GATEWAYS)
async def test_acomplete_and_astream_complete(gateway: str) -> None:
    llm = make_llm(gateway)
    completion = await llm.acomplete("Hello there! Say hello back in one sentence.")
    assert completion.text.strip()
    pieces = [p async for p in await llm.astream_complete("Hello there! Say hello back in one sentence.")]
    assert pieces[-1].text == "".join(p.delta or "" for p in pieces)
    assert pieces[-1].raw["usage"]["total_tokens"] > 0


@pytest.mark.vcr
def test_one_object_across_event_loops() -> None:
    """A cached async client must not outlive its loop ("Event loop is closed" on the second run)."""
    llm = make_llm("apipie")
    first = asyncio.run(llm.achat(HELLO))
    second = asyncio.run(llm.achat(HELLO))
    assert first.message.content
    assert second.message.content


def _split_tokenizer(text: str) -> list[str]:
    return text.split()


@pytest.mark.vcr
def test_token_counting_handler_counts_the_gateways_numbers() -> None:
    counter = TokenCountingHandler(tokenizer=_split_tokenizer)
    llm = make_llm("apipie", callback_manager=CallbackManager([counter]))
    response = llm.chat(HELLO)
    chunks = list(llm.stream_chat(HELLO))
    usages = [response.raw["usage"], chunks[-1].raw["usage"]]
    assert [e.prompt_token_count for e in counter.llm_token_counts] == [u["prompt_tokens"] for u in usages]
    assert [e.completion_token_count for e in counter.llm_token_counts] == [
        u["completion_tokens"] for u in usages
    ]
    assert counter.total_llm_token_count == sum(u["total_tokens"] for u in usages)


class _PayloadRecorder(BaseCallbackHandler):
    def __init__(self) -> None:
        super().__init__(event_starts_to_ignore=[], event_ends_to_ignore=[])
        self.payloads: list[Any] = []

    def on_event_start(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        parent_id: str = "",
        **kwargs: Any,
    ) -> str:
        self.payloads.append(payload)
        return event_id

    def on_event_end(
        self,
        event_type: CBEventType,
        payload: dict[str, Any] | None = None,
        event_id: str = "",
        **kwargs: Any,
    ) -> None:
        self.payloads.append(payload)

    def start_trace(self, trace_id: str | None = None) -> None:
        return None

    def end_trace(self, trace_id: str | None = None, trace_map: dict[str, list[str]] | None = None) -> None:
        return None


class _EventRecorder(BaseEventHandler):
    events: list[BaseEvent] = []

    @classmethod
    def class_name(cls) -> str:
        return "EventRecorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.mark.vcr
def test_api_key_never_reaches_callbacks_or_instrumentation() -> None:
    key = cassette_support.gateway_api_key("apipie")
    recorder = _PayloadRecorder()
    events = _EventRecorder(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(events)
    try:
        llm = make_llm("apipie", callback_manager=CallbackManager([recorder]))
        llm.chat(HELLO)
        list(llm.stream_chat(HELLO))
    finally:
        dispatcher.event_handlers.remove(events)
    assert recorder.payloads
    assert events.events
    dumped = repr(recorder.payloads) + "".join(e.model_dump_json() for e in events.events)
    assert key not in dumped
    assert "hermes_llm" in dumped  # the serialized model is there, without its key
    assert key not in repr(llm) + llm.to_json() + str(llm.to_dict())


@pytest.mark.vcr
def test_reasoning_streams_as_thinking_delta_and_thinking_block() -> None:
    llm = make_llm("apipie", model="hermes-4-70b")
    chunks = list(llm.stream_chat([ChatMessage(role="user", content="Why is the sky blue? Think first.")]))
    thinking = "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
    assert thinking.strip()
    final = chunks[-1].message
    [block] = [b for b in final.blocks if isinstance(b, ThinkingBlock)]
    assert block.content == thinking
    assert final.content
    assert "<think>" not in final.content
    assert "</think>" not in final.content


@pytest.mark.vcr
def test_image_url_reaches_the_vision_model() -> None:
    llm = make_llm("apipie", model="nous-hermes-2-vision-7b")
    message = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="What is in this picture? Answer in one sentence."),
            ImageBlock(
                url="https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"
            ),
        ],
    )
    response = llm.chat([message])
    assert response.message.content
    assert_usage(response)


def test_images_to_a_text_only_model_fail_before_any_request() -> None:
    llm = make_llm("apipie", model="nous-hermes-2-mixtral-8x7b-dpo")
    message = ChatMessage(
        role="user", blocks=[TextBlock(text="What is this?"), ImageBlock(url="https://x.org/a.png")]
    )
    with pytest.raises(VisionNotSupportedError, match="does not accept images"):
        llm.chat([message])
