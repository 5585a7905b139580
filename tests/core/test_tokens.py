"""The offline token estimate (`hermes_gateway._tokens`) against counts of the real Llama 3 tokenizer.

The reference counts below were made once with Meta's Llama 3 tokenizer (the 128k byte-level BPE shared by
Hermes 2 Pro, 3 and 4; counted with the `llama3` encoding of the `quicktok-v1` package, which bundles it) and
are written here as data: the tokenizer itself is not a test dependency. The estimate must stay within the
error its docstring promises, and be consistent: pieces = count, messages = their parts + overhead.
"""

from __future__ import annotations

from typing import Any

import pytest

from hermes_gateway._constants import IMAGE_TOKEN_ESTIMATE
from hermes_gateway._tokens import (
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    count_message_tokens,
    count_text_tokens,
    split_text_tokens,
)

REFERENCE: dict[str, tuple[str, int, tuple[float, float]]] = {
    "prose": (
        "Hermes 3 is a generalist language model with many improvements over Hermes 2, including advanced "
        "agentic capabilities, much better roleplaying, reasoning, multi-turn conversation, long context "
        "coherence, and improvements across the board.",
        46,
        (0.9, 1.2),
    ),
    "markdown": (
        "## Errors\n\n- `NotFoundError` (404): the model id is unknown on this gateway, or the base URL is "
        "wrong.\n- `RateLimitError` (429): slow down; `retry_after` says how long.\n",
        46,
        (0.9, 1.25),
    ),
    "python": (
        "def resolve_model_id(name: str, gateway: str) -> str:\n    info = lookup(name)\n"
        "    if info is None:\n        return name\n"
        "    own = info.gateway_ids.get(gateway)\n    return own or name\n",
        47,
        (0.9, 1.35),
    ),
    "json": (
        '{"model": "nousresearch/hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "What is '
        'the weather in Paris?"}], "temperature": 0.2, "max_tokens": 512}',
        58,
        (0.85, 1.25),
    ),
    "chinese": (
        "我们的模型可以在多个网关上运行，并且支持工具调用和结构化输出。",  # noqa: RUF001  # a real Chinese comma
        20,
        (0.8, 1.3),
    ),
    "russian": ("Модели Hermes работают через шлюзы и поддерживают вызов инструментов.", 18, (0.75, 1.3)),
    "numbers": ("3.14159 2.71828 1.41421 1729 65536 4096 131072", 26, (0.8, 1.25)),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_estimate_is_near_the_llama3_count(name: str) -> None:
    text, real, (low, high) = REFERENCE[name]
    estimate = count_text_tokens(text)
    assert low * real <= estimate <= high * real, (estimate, real)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_pieces_cover_the_text_and_match_the_count(name: str) -> None:
    text = REFERENCE[name][0]
    pieces = split_text_tokens(text)
    assert "".join(pieces) == text
    assert len(pieces) == count_text_tokens(text)


def test_edge_texts() -> None:
    assert count_text_tokens("") == 0
    assert split_text_tokens("") == []
    assert count_text_tokens("snake_case_name __dunder__") >= 3
    assert "".join(split_text_tokens("a_b\r\n\t x__y ©®")) == "a_b\r\n\t x__y ©®"


def test_messages_add_their_parts_and_the_template() -> None:
    question = "What is the weather in Paris?"
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
    }
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": question},
                {"type": "image_url", "image_url": {"url": "data:x"}},
            ],
        },
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "21 C"},
    ]
    expected = (
        sum(map(count_text_tokens, ["Be brief.", question, "get_weather", '{"city":"Paris"}', "21 C"]))
        + 4 * MESSAGE_OVERHEAD
        + IMAGE_TOKEN_ESTIMATE
        + REPLY_PRIMING
    )
    assert count_message_tokens(messages) == expected
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    assert count_message_tokens(messages, tools) > expected
