"""`n` > 1 is refused before any I/O, with what to do instead: the reply is read as one choice, so the other
choices would be silently dropped. Through the core and both adapters, sync, async and streamed; `n=1` (and
no `n`) pass. Counted at the replica: nothing is sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.exceptions import ModelInvalidRequestError
from llama_index.core.llms import ChatMessage
from pydantic import SecretStr

from hermes_gateway import BadRequestError, GatewayClient
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Replica

KEY = "sk-choices-0123456789"
HI: Any = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.mark.parametrize("how", ["chat", "stream", "achat"])
def test_core_refuses_n_above_one(replica: Replica, how: str) -> None:
    client = GatewayClient("apipie", api_key=KEY, base_url=replica.apipie.base_url)
    request: Any = {**HI, "n": 3}

    def call() -> None:
        if how == "chat":
            client.chat(request)
        elif how == "stream":
            with client.stream(request) as deltas:
                list(deltas)
        else:
            asyncio.run(client.achat(request))

    with pytest.raises(BadRequestError, match=r"n=3 asks for 3 choices.*make 3 calls instead"):
        call()
    single: Any = {**HI, "n": 1}
    client.chat(single)
    client.close()
    assert len(replica.apipie.requests) == 1  # only the n=1 call went out


def test_chat_hermes_refuses_it_as_a_non_retryable_invalid_request(replica: Replica) -> None:
    llm = ChatHermes(gateway="apipie", base_url=replica.apipie.base_url, api_key=SecretStr(KEY))
    for call in (lambda: llm.invoke("Hi", n=2), lambda: list(llm.stream("Hi", n=2))):
        with pytest.raises(ModelInvalidRequestError) as caught:
            call()
        assert isinstance(caught.value, BadRequestError)
        assert caught.value.is_retryable is False
    bound = ChatHermes(
        gateway="apipie", base_url=replica.apipie.base_url, api_key=SecretStr(KEY), model_kwargs={"n": 2}
    )
    with pytest.raises(BadRequestError, match=r"llm\.batch"):
        bound.invoke("Hi")
    llm.close()
    bound.close()
    assert replica.apipie.requests == []


def test_hermes_refuses_it(replica: Replica) -> None:
    llm = Hermes(gateway="apipie", base_url=replica.apipie.base_url, api_key=KEY, additional_kwargs={"n": 2})
    with pytest.raises(BadRequestError, match="n=2"):
        llm.chat([ChatMessage(role="user", content="Hi")])
    with pytest.raises(BadRequestError, match="n=2"):
        list(llm.stream_chat([ChatMessage(role="user", content="Hi")]))
    llm.close()
    assert replica.apipie.requests == []
