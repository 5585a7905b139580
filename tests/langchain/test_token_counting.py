"""ChatHermes counts tokens offline: `get_num_tokens`, `get_num_tokens_from_messages`, and LangChain's own
`trim_messages(..., token_counter=llm)` feeding a real call to the replica. No `transformers`, no download.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, trim_messages

import hermes_gateway as hg
from tests.langchain._support import get_weather

HISTORY: list[Any] = [
    SystemMessage("You are a concise assistant."),
    HumanMessage("Tell me about the Hermes 3 models. " * 20),
    AIMessage("Hermes 3 is a family of Llama 3.1 fine-tunes by Nous Research. " * 20),
    HumanMessage("And what about tool calling?"),
    AIMessage("", tool_calls=[{"id": "c1", "name": "get_weather", "args": {"location": "Paris"}}]),
    ToolMessage("It's sunny in Paris.", tool_call_id="c1"),
    HumanMessage("Thanks. Summarise in one line."),
]


def test_counts_without_transformers(make_llm: Any) -> None:
    llm = make_llm()
    assert llm.get_num_tokens("Hello there, Hermes!") == hg.count_text_tokens("Hello there, Hermes!")
    total = llm.get_num_tokens_from_messages(HISTORY)
    parts = sum(llm.get_num_tokens_from_messages([m]) for m in HISTORY)
    assert total > 200
    # One template overhead per message; the reply priming once, not once per message.
    assert total == parts - (len(HISTORY) - 1) * hg._tokens.REPLY_PRIMING
    with_tools = llm.get_num_tokens_from_messages(HISTORY, tools=[get_weather])
    assert with_tools > total


def test_token_ids_are_refused_clearly_unless_a_tokenizer_is_given(make_llm: Any) -> None:
    with pytest.raises(NotImplementedError, match="custom_get_token_ids"):
        make_llm().get_token_ids("Hello")
    exact = make_llm(custom_get_token_ids=lambda text: list(range(len(text.split()))))
    assert exact.get_token_ids("one two three") == [0, 1, 2]
    assert exact.get_num_tokens("one two three") == 3
    assert exact.get_num_tokens_from_messages([HumanMessage("one two three")]) >= 3


@pytest.mark.parametrize("budget", [60, 250, 400])
def test_trim_messages_with_the_model_as_counter_then_call(replica: Any, make_llm: Any, budget: int) -> None:
    llm = make_llm()
    trimmed = trim_messages(
        HISTORY,
        max_tokens=budget,
        token_counter=llm,
        strategy="last",
        include_system=True,
        start_on="human",
        allow_partial=False,
    )
    assert llm.get_num_tokens_from_messages(trimmed) <= budget
    assert trimmed[0] == HISTORY[0]
    assert trimmed[-1] == HISTORY[-1]
    assert len(trimmed) < len(HISTORY)
    reply = llm.invoke(trimmed)
    assert reply.text
    sent = replica.apipie.requests[-1].json["messages"]
    assert len(sent) == len(trimmed)
