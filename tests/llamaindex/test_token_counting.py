"""`hermes_tokenizer`: the offline Hermes token estimate where LlamaIndex asks for a tokenizer.

Driven through LlamaIndex's own machinery: `TokenCountingHandler` falling back to the tokenizer when the
gateway's reply carries no usage (scripted at the replica), `PromptHelper` packing text to the window the
LLM's metadata gives, and `Settings.tokenizer`. None of it may reach for tiktoken's downloadable files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import llama_index.core
import pytest
from llama_index.core import Settings
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.indices.prompt_helper import PromptHelper
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate

import hermes_gateway as hg
from llamaindex_hermes import Hermes, hermes_tokenizer
from tests.langchain._support import chunk, finish
from tests.replica import Fault, Replica

REPLY = "Hello! The weather in Paris is mild today, with light rain expected in the evening."


def _no_usage_stream() -> Fault:
    words = REPLY.split(" ")
    pieces = [w if i == 0 else f" {w}" for i, w in enumerate(words)]
    events: list[str | bytes | dict[str, Any]] = [chunk(p) for p in pieces]
    return Fault.script_chunks([*events, finish(), "[DONE]"])


@pytest.fixture
def llm(replica: Replica) -> Iterator[Hermes]:
    counter = TokenCountingHandler(tokenizer=hermes_tokenizer)
    made = Hermes(
        model="hermes-3-llama-3.1-70b",
        gateway="apipie",
        base_url=replica.apipie.base_url,
        api_key="sk-tokens-0123456789",
        max_retries=0,
        callback_manager=CallbackManager([counter]),
    )
    yield made
    made.close()


def _counter(llm: Hermes) -> TokenCountingHandler:
    handler = llm.callback_manager.handlers[0]
    assert isinstance(handler, TokenCountingHandler)
    return handler


def test_token_counting_handler_falls_back_to_the_estimate(replica: Replica, llm: Hermes) -> None:
    replica.apipie.enqueue(_no_usage_stream())
    messages = [ChatMessage(role="user", content="What is the weather in Paris?")]
    last: Any = None
    for response in llm.stream_chat(messages):
        last = response
    assert last is not None
    assert last.message.content == REPLY
    assert not (last.raw or {}).get("usage")  # the gateway said nothing: the tokenizer must count
    (event,) = _counter(llm).llm_token_counts
    assert event.completion_token_count == len(hermes_tokenizer(event.completion))
    assert event.completion_token_count >= hg.count_text_tokens(REPLY)
    assert 0 < event.prompt_token_count < 40


def test_the_gateways_usage_wins_when_it_reports_one(replica: Replica, llm: Hermes) -> None:
    response = llm.chat([ChatMessage(role="user", content="Hello")])
    (event,) = _counter(llm).llm_token_counts
    assert event.prompt_token_count == response.raw["usage"]["prompt_tokens"]


def test_prompt_helper_packs_to_the_window_with_the_estimate(llm: Hermes) -> None:
    helper = PromptHelper.from_llm_metadata(llm.metadata, tokenizer=hermes_tokenizer)
    small = PromptHelper(
        context_window=300, num_output=50, chunk_overlap_ratio=0.0, tokenizer=hermes_tokenizer
    )
    prompt = PromptTemplate("Context: {context_str}\nAnswer the question.")
    text = "Hermes models run on APIpie and AI/ML API with native or prompt-mode tool calls. " * 40
    packed = small.repack(prompt, [text])
    assert len(packed) > 1  # too long for one 300-token window
    assert all(hg.count_text_tokens(p) <= 250 for p in packed)
    assert helper.context_window == llm.metadata.context_window


def test_settings_tokenizer_accepts_it() -> None:
    previous = llama_index.core.global_tokenizer
    try:
        Settings.tokenizer = hermes_tokenizer
        assert len(Settings.tokenizer("Hello there, Hermes!")) == hg.count_text_tokens("Hello there, Hermes!")
    finally:
        llama_index.core.global_tokenizer = previous
