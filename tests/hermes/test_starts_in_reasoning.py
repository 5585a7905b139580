"""Class 5 of issue 18: templates that open `<think>` themselves, reachable from the catalog, the request, and
both adapters (constructor and per call). The reply starts inside reasoning; only `</think>` comes.

The replica streams exactly the scripted chunks (`Fault.script_chunks`), split inside the tags.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ThinkingBlock
from pydantic import SecretStr

from hermes_gateway import _catalog
from hermes_gateway._gateways import get_dialect
from hermes_gateway._request import prepare_request
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.langchain._support import chunk, finish, merged
from tests.replica import Fault, Replica

MODEL = "hermes-4-70b"
PIECES = ["The user ", "greets me.\n</th", "ink>\n\nHello", " there!"]
SECRET = "sk-test-0123456789abcdef"


def _script(replica: Replica, times: int = 1) -> None:
    for _ in range(times):
        replica.apipie.enqueue(Fault.script_chunks([*(chunk(p) for p in PIECES), finish(), "[DONE]"]))


def _chat_hermes(replica: Replica, **kw: Any) -> ChatHermes:
    return ChatHermes(
        model=MODEL, gateway="apipie", base_url=replica.base_url("apipie"), api_key=SecretStr(SECRET), **kw
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_chat_hermes_constructor_option(replica: Replica, mode: str) -> None:
    _script(replica)
    llm = _chat_hermes(replica, starts_in_reasoning=True)
    if mode == "sync":
        chunks = list(llm.stream("Hi"))
    else:

        async def go() -> list[Any]:
            return [c async for c in llm.astream("Hi")]

        chunks = asyncio.run(go())
    full = merged(chunks)
    assert full.content == "Hello there!"
    assert full.additional_kwargs["reasoning_content"] == "The user greets me.\n"
    assert "starts_in_reasoning" not in replica.apipie.requests[-1].json  # a client-side option: never sent
    llm.close()


def test_chat_hermes_per_call_option_overrides_the_constructor(replica: Replica) -> None:
    _script(replica, times=2)
    llm = _chat_hermes(replica, starts_in_reasoning=False)
    full = merged(list(llm.stream("Hi", starts_in_reasoning=True)))
    assert full.content == "Hello there!"
    assert full.additional_kwargs["reasoning_content"] == "The user greets me.\n"
    plain = merged(list(llm.stream("Hi")))
    assert "Hello there!" in plain.content
    llm.close()


def test_without_the_option_reasoning_is_not_glued_to_the_answer(
    replica: Replica, caplog: pytest.LogCaptureFixture
) -> None:
    _script(replica)
    llm = _chat_hermes(replica)
    with caplog.at_level(logging.WARNING, logger="hermes_gateway"):
        full = merged(list(llm.stream("Hi")))
    # Already streamed as content (a stream cannot take it back): kept, but the answer is its own paragraph.
    assert full.content == "The user greets me.\n\n\nHello there!"
    assert "</think>" not in str(full.content)
    assert any("starts_in_reasoning=True" in r.getMessage() for r in caplog.records)
    llm.close()


@pytest.mark.parametrize("per_call", [False, True])
def test_llamaindex_hermes_option(replica: Replica, per_call: bool) -> None:
    _script(replica)
    llm = Hermes(
        model=MODEL,
        gateway="apipie",
        base_url=replica.base_url("apipie"),
        api_key=SECRET,
        **({} if per_call else {"starts_in_reasoning": True}),
    )
    kwargs = {"starts_in_reasoning": True} if per_call else {}
    responses = list(llm.stream_chat([ChatMessage(role="user", content="Hi")], **kwargs))
    last = responses[-1]
    assert last.message.content == "Hello there!"
    thinking = [b.content for b in last.message.blocks if isinstance(b, ThinkingBlock)]
    assert "".join(t or "" for t in thinking) == "The user greets me.\n"
    assert "starts_in_reasoning" not in replica.apipie.requests[-1].json


def test_catalog_flag_per_gateway_and_request_override() -> None:
    info = _catalog.lookup(MODEL)
    assert info is not None
    assert not info.starts_in_reasoning("apipie")  # nothing confirmed in the catalog today
    flagged = dataclasses.replace(info, think_opened=frozenset({"apipie"}))
    base: Any = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    assert prepare_request(base, dialect=get_dialect("apipie"), info=flagged).starts_in_reasoning
    assert not prepare_request(base, dialect=get_dialect("aimlapi"), info=flagged).starts_in_reasoning
    prepared = prepare_request(
        {**base, "starts_in_reasoning": False}, dialect=get_dialect("apipie"), info=flagged
    )
    assert not prepared.starts_in_reasoning
    assert "starts_in_reasoning" not in prepared.body
