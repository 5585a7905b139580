"""`logprobs` / `top_logprobs`: asked per call (or per object), sent as given, and the gateway's token
log-probabilities come back, in order, through the core (`ChatDelta.logprobs`, `ChatResult.logprobs`),
ChatHermes (`response_metadata["logprobs"]["content"]`, on the message and on stream chunks, as ChatOpenAI)
and Hermes (`ChatResponse.logprobs`, as llama-index-llms-openai). The replica serves scripted OpenAI-shape
replies with `choices[0].logprobs` (its brain does not compute log-probabilities).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from pydantic import SecretStr

from hermes_gateway import GatewayClient
from langchain_hermes import ChatHermes
from llamaindex_hermes import Hermes
from tests.replica import Fault, Replica

KEY = "sk-logprobs-0123456789"
TOKENS = ["Hello", " there", "!"]


def _entry(token: str, i: int) -> dict[str, Any]:
    logprob = -0.1 * (i + 1)
    return {
        "token": token,
        "logprob": logprob,
        "bytes": list(token.encode()),
        "top_logprobs": [
            {"token": token, "logprob": logprob, "bytes": list(token.encode())},
            {"token": f"{token}?", "logprob": logprob - 2.0, "bytes": list(f"{token}?".encode())},
        ],
    }


ENTRIES = [_entry(t, i) for i, t in enumerate(TOKENS)]


def _stream() -> Fault:
    events: list[str | bytes | dict[str, Any]] = [
        {
            "id": "chatcmpl-lp",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": t}, "logprobs": {"content": [e]}}],
        }
        for t, e in zip(TOKENS, ENTRIES, strict=True)
    ]
    events.append({"id": "chatcmpl-lp", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append("[DONE]")
    return Fault.script_chunks(events)


def _completion() -> Fault:
    body = {
        "id": "chatcmpl-lp",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(TOKENS)},
                "logprobs": {"content": ENTRIES},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
    return Fault.script_chunks([body])


def _sent(replica: Replica) -> dict[str, Any]:
    body: dict[str, Any] = replica.aimlapi.requests[-1].json
    return body


@pytest.mark.parametrize("streamed", [False, True])
def test_core_carries_them_in_order(replica: Replica, streamed: bool) -> None:
    client = GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url)
    request: Any = {
        "model": "hermes-3-llama-3.1-70b",
        "messages": [{"role": "user", "content": "Hi"}],
        "logprobs": True,
        "top_logprobs": 2,
    }
    if streamed:
        replica.aimlapi.enqueue(_stream())
        with client.stream(request) as deltas:
            got = [d.logprobs for d in deltas if d.logprobs]
        assert got == [[e] for e in ENTRIES]
    else:
        replica.aimlapi.enqueue(_completion())
        result = client.chat(request)
        assert result.logprobs == ENTRIES
        assert "".join(e["token"] for e in result.logprobs) == result.content
    assert (_sent(replica)["logprobs"], _sent(replica)["top_logprobs"]) == (True, 2)
    client.close()


def test_no_logprobs_unless_asked(replica: Replica) -> None:
    client = GatewayClient("aimlapi", api_key=KEY, base_url=replica.aimlapi.base_url)
    result = client.chat({"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]})
    assert result.logprobs is None
    client.close()


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "stream"])
def test_chat_hermes_puts_them_where_chatopenai_does(replica: Replica, mode: str) -> None:
    llm = ChatHermes(gateway="aimlapi", base_url=replica.aimlapi.base_url, api_key=SecretStr(KEY))
    bound = llm.bind(logprobs=True, top_logprobs=2)
    if mode == "stream":
        replica.aimlapi.enqueue(_stream())
        chunks = list(bound.stream("Hi"))
        assert [c.response_metadata["logprobs"]["content"] for c in chunks[:3]] == [[e] for e in ENTRIES]
        message: Any = chunks[0]
        for chunk in chunks[1:]:
            message = message + chunk
    else:
        replica.aimlapi.enqueue(_completion())
        message = bound.invoke("Hi") if mode == "invoke" else asyncio.run(bound.ainvoke("Hi"))
    assert message.response_metadata["logprobs"]["content"] == ENTRIES
    assert message.text == "".join(TOKENS)
    assert _sent(replica)["top_logprobs"] == 2
    llm.close()


@pytest.mark.parametrize("streamed", [False, True])
def test_hermes_fills_chat_response_logprobs(replica: Replica, streamed: bool) -> None:
    llm = Hermes(gateway="aimlapi", base_url=replica.aimlapi.base_url, api_key=KEY)
    messages = [ChatMessage(role="user", content="Hi")]
    if streamed:
        replica.aimlapi.enqueue(_stream())
        responses = list(llm.stream_chat(messages, logprobs=True, top_logprobs=2))
        final = responses[-1]
        assert [len(r.logprobs or []) for r in responses[:3]] == [1, 2, 3]  # so far, like the message
    else:
        replica.aimlapi.enqueue(_completion())
        final = llm.chat(messages, logprobs=True, top_logprobs=2)
    assert final.logprobs is not None
    assert [[lp.token for lp in position] for position in final.logprobs] == [[t, f"{t}?"] for t in TOKENS]
    assert all(math.isclose(p[0].logprob, e["logprob"]) for p, e in zip(final.logprobs, ENTRIES, strict=True))
    assert final.logprobs[0][0].bytes == list(b"Hello")
    assert _sent(replica)["logprobs"] is True
    llm.close()
