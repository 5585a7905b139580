"""ChatHermes' async methods are native: they never fall back to the sync path in a thread.

BaseChatModel's default `_agenerate` / `_astream` run the sync `_generate` / `_stream` in an executor; the
"Native async" row of the features table (docs/integrations/chat_hermes.ipynb) claims ChatHermes does not.
Here the sync paths raise, and the async calls still reach the gateway (the replica) and answer.
"""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from langchain_hermes import ChatHermes
from tests.replica import Replica


def _sync_path_used(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("the sync path ran under an async call")


async def test_ainvoke_astream_and_abatch_never_use_the_sync_path(
    make_llm: Any, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChatHermes, "_generate", _sync_path_used)
    monkeypatch.setattr(ChatHermes, "_stream", _sync_path_used)
    llm = make_llm("apipie")

    message = await llm.ainvoke("Say hello in five words.")
    assert message.content
    chunks = [chunk async for chunk in llm.astream("Count to five.")]
    assert len(chunks) > 1
    answers = await llm.abatch(["One.", "Two."])
    assert all(answer.content for answer in answers)
    assert len(replica.apipie.requests) == 4
