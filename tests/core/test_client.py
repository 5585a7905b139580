"""GatewayClient over httpx.MockTransport: configuration, security, request bodies, retries, both drivers.

Every behavioural test runs through the sync and the async path (`driver` fixture); the async path uses a
fresh `asyncio.run` per call, which also exercises one client across several event loops.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hermes_gateway import (
    AuthenticationError,
    BadRequestError,
    ChatDelta,
    ChatRequest,
    GatewayClient,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    StreamAccumulator,
    Usage,
)

from ._drivers import chat, stream
from ._wire_fixtures import content_chunk, finish_chunk, sse, usage_chunk
from ._wire_schema import WireChatRequest

KEY = "sk-test-0123456789abcdef"
REQUEST: ChatRequest = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}
TOOLS = [
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
]
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "provider": "openrouter",
    "model": "nousresearch/hermes-3-llama-3.1-70b",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hello there"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5, "cost": 0.001, "latency_ms": 40},
}
STREAM_BODY = sse(
    content_chunk("Hello", provider="openrouter"), content_chunk(" there"), finish_chunk(), usage_chunk(3, 2)
)

Handler = Callable[[httpx.Request], httpx.Response]


def reply(request: httpx.Request) -> httpx.Response:
    """The default answer: an SSE stream for stream requests, a completion otherwise."""
    if json.loads(request.content).get("stream"):
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM_BODY)
    return httpx.Response(200, json=COMPLETION)


class Recorder:
    """A MockTransport handler that records requests and answers from a script, then with `reply`."""

    def __init__(self, *script: Handler | httpx.Response) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if self.script:
            step = self.script.pop(0)
            return step(request) if callable(step) else step
        return reply(request)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def make_client(recorder: Recorder, gateway: str = "apipie", **kw: Any) -> GatewayClient:
    kw.setdefault("api_key", KEY)
    if gateway == "openai":
        kw.setdefault("base_url", "http://127.0.0.1:8000/v1")
    transport = httpx.MockTransport(recorder)
    client = GatewayClient(gateway, transport=transport, async_transport=transport, **kw)
    client.retry_policy = RetryPolicy(max_retries=client.max_retries, initial_delay=0.0, max_retry_after=0.05)
    return client


# -- configuration and security ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "APIPIE_API_KEY",
        "AIMLAPI_API_KEY",
        "AIML_API_KEY",
        "OPENAI_API_KEY",
        "APIPIE_BASE_URL",
        "AIMLAPI_BASE_URL",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def test_gateway_defaults() -> None:
    assert GatewayClient("apipie").base_url == "https://apipie.ai/v1"
    assert GatewayClient("aimlapi").chat_url == "https://api.aimlapi.com/v1/chat/completions"
    with pytest.raises(ValueError, match="unknown gateway 'nope'"):
        GatewayClient("nope")


def test_base_url_from_env_and_openai_needs_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIPIE_BASE_URL", "https://eu.apipie.example/v1/")
    assert GatewayClient("apipie").base_url == "https://eu.apipie.example/v1"
    with pytest.raises(ValueError, match="needs base_url"):
        GatewayClient("openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    assert GatewayClient("openai").base_url == "http://localhost:11434/v1"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "http://127.4.5.6/v1", "http://localhost/v1", "http://[::1]:8080/v1"]
)
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    assert GatewayClient("openai", base_url=url).base_url == url


def test_plain_http_elsewhere_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ValueError, match=r"[Uu]se https://"):
        GatewayClient("apipie", base_url="http://apipie.ai/v1")
    with pytest.raises(ValueError, match="https"):
        GatewayClient("openai", base_url="http://10.0.0.5:8000/v1")
    assert GatewayClient("openai", base_url="http://10.0.0.5:8000/v1", allow_insecure_http=True)


def test_construction_needs_no_key_and_the_first_request_names_the_env_var(driver: str) -> None:
    recorder = Recorder()
    client = make_client(recorder, api_key=None)
    with pytest.raises(MissingAPIKeyError, match="set APIPIE_API_KEY or pass api_key=") as info:
        chat(client, REQUEST, driver)
    assert isinstance(info.value, AuthenticationError)
    assert recorder.requests == []
    aiml = make_client(recorder, "aimlapi", api_key=None)
    with pytest.raises(MissingAPIKeyError, match="AIMLAPI_API_KEY or AIML_API_KEY"):
        stream(aiml, REQUEST, driver)


def test_key_from_env_at_request_time(monkeypatch: pytest.MonkeyPatch, driver: str) -> None:
    recorder = Recorder()
    client = make_client(recorder, "aimlapi", api_key=None)
    monkeypatch.setenv("AIML_API_KEY", "env-key-1")
    chat(client, REQUEST, driver)
    assert recorder.requests[-1].headers["authorization"] == "Bearer env-key-1"


def test_openai_gateway_sends_no_authorization_without_a_key(driver: str) -> None:
    recorder = Recorder()
    chat(make_client(recorder, "openai", api_key=None), REQUEST, driver)
    assert "authorization" not in recorder.requests[-1].headers


def test_key_never_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture, driver: str) -> None:
    body = {"error": {"message": "Invalid request"}}
    recorder = Recorder(httpx.Response(503, json=body), httpx.Response(400, json=body))
    client = make_client(recorder)
    assert KEY not in repr(client)
    assert KEY not in str(client)
    with caplog.at_level(logging.DEBUG), pytest.raises(BadRequestError) as info:
        chat(client, REQUEST, driver)
    assert len(recorder.requests) == 2
    everything = caplog.text + repr(info.value) + str(info.value) + repr(vars(info.value))
    assert KEY not in everything
    assert "retrying apipie" in caplog.text


def test_pickle_drops_the_pools_and_keeps_the_config(driver: str) -> None:
    client = make_client(Recorder(), timeout=7.0, max_retries=4)
    chat(client, REQUEST, driver)
    copy = pickle.loads(pickle.dumps(client))
    assert (copy.gateway, copy.base_url, copy.timeout, copy.max_retries) == (
        "apipie",
        client.base_url,
        7.0,
        4,
    )
    assert copy.api_key is not None
    assert copy.api_key.get_secret_value() == KEY
    assert copy.clients[0]._client is None
    assert len(copy.clients[0]._async_clients) == 0


def test_timeout_bounds_connect_and_read() -> None:
    client = GatewayClient("apipie", timeout=12.0)
    timeout = client.clients[0]._get_client().timeout
    assert (timeout.connect, timeout.read) == (12.0, 12.0)


@pytest.mark.parametrize(
    ("target", "keeps_auth"),
    [("https://other.example/v1/chat/completions", False), ("https://apipie.ai/v2/chat/completions", True)],
)
def test_redirect_to_another_host_drops_authorization(target: str, keeps_auth: bool, driver: str) -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(307, headers={"location": target})

    recorder = Recorder(redirect)
    chat(make_client(recorder), REQUEST, driver)
    first, second = recorder.requests
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert str(second.url) == target
    assert ("authorization" in second.headers) is keeps_auth


# -- request bodies ------------------------------------------------------------------------------------------


def test_body_for_a_stream_and_for_a_completion(driver: str) -> None:
    recorder = Recorder()
    client = make_client(recorder)
    request: ChatRequest = {
        **REQUEST,
        "temperature": 0.2,
        "stream_options": {"include_usage": False},
        "extra_body": {"provider": "together", "routing": "perf", "top_k": None},
    }
    stream(client, request, driver)
    chat(client, request, driver)
    streamed, completed = recorder.bodies
    assert streamed["model"] == "hermes-3-llama-3-1-70b"  # resolved to APIpie's id
    assert streamed["stream"] is True
    assert streamed["stream_options"] == {"include_usage": True}
    assert (streamed["provider"], streamed["routing"], streamed["temperature"]) == ("together", "perf", 0.2)
    assert "top_k" not in streamed  # None values are never sent
    assert "stream" not in completed
    assert "stream_options" not in completed
    for body in recorder.bodies:
        WireChatRequest.model_validate(body)
    assert request["stream_options"] == {"include_usage": False}  # the caller's request is untouched
    assert recorder.requests[0].headers["accept"] == "text/event-stream"


def test_params_a_gateway_rejects_are_dropped(driver: str, caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    request: ChatRequest = {**REQUEST, "seed": 0, "tool_choice": "auto", "parallel_tool_calls": False}
    with caplog.at_level(logging.DEBUG, logger="hermes_gateway"):
        chat(make_client(recorder, "aimlapi"), request, driver)
        chat(make_client(recorder, "aimlapi"), {**request, "seed": 7}, driver)
    first, second = recorder.bodies
    assert first["model"] == "nousresearch/hermes-3-llama-3.1-70b"
    assert "seed" not in first
    assert "tool_choice" not in first
    assert "parallel_tool_calls" not in first
    assert second["seed"] == 7
    assert "dropped seed for aimlapi" in caplog.text


def test_tool_mode_hermes_sends_no_tools_field(driver: str) -> None:
    recorder = Recorder()
    client = make_client(recorder)
    request: ChatRequest = {**REQUEST, "tools": TOOLS, "tool_choice": "auto", "parallel_tool_calls": True}
    chat(client, request, driver, tool_mode="hermes")
    chat(client, request, driver, tool_mode="native")
    prompt, native = recorder.bodies
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(prompt)
    assert prompt["messages"][0]["role"] == "system"
    assert "<tools>" in prompt["messages"][0]["content"]
    assert native["tools"] == TOOLS
    assert native["messages"] == REQUEST["messages"]


def test_auto_tool_mode_follows_the_catalog(driver: str) -> None:
    recorder = Recorder()
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "time?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
    ]
    request: ChatRequest = {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": history, "tools": TOOLS}
    chat(make_client(recorder, "apipie"), request, driver)  # no native tools for this model: prompt mode
    # Native tools are confirmed for Hermes 4 on local OpenAI-compatible servers only; on AI/ML API they
    # are declared but unconfirmed (gateways.md Corrections), so auto mode uses the prompt format there.
    chat(make_client(recorder, "openai"), {**request, "model": "hermes-4-70b"}, driver)
    chat(make_client(recorder, "aimlapi"), {**request, "model": "hermes-4-70b"}, driver)
    chat(make_client(recorder, "aimlapi"), {**request, "model": "hermes-4-70b"}, driver, tool_mode="native")
    prompt, native, unconfirmed, forced = recorder.bodies
    assert "tools" not in unconfirmed
    assert "<tool_call>" in unconfirmed["messages"][2]["content"]
    assert forced["tools"] == TOOLS  # tool_mode="native" still sends them
    assert "tools" not in prompt
    assert [m["role"] for m in prompt["messages"]] == ["system", "user", "assistant", "user"]
    assert "<tool_response>" in prompt["messages"][-1]["content"]
    assert "<tool_call>" in prompt["messages"][2]["content"]
    assert native["tools"] == TOOLS
    assert native["model"] == "hermes-4-70b"  # local servers get the name as given
    assert forced["model"] == "nousresearch/hermes-4-70b"
    assert history[1]["content"] == ""  # not mutated


def test_tool_call_text_in_a_completion_becomes_a_tool_call(driver: str) -> None:
    text = 'Checking. <tool_call>\n{"arguments": {}, "name": "get_time"}\n</tool_call>'
    completion = {**COMPLETION, "choices": [{"message": {"content": text}, "finish_reason": "stop"}]}
    recorder = Recorder(httpx.Response(200, json=completion))
    result = chat(make_client(recorder), {**REQUEST, "tools": TOOLS}, driver)
    assert result.content.strip() == "Checking."
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("get_time", "{}")]
    assert result.finish_reason == "tool_calls"


# -- replies -------------------------------------------------------------------------------------------------


def test_chat_and_stream_give_the_same_result(driver: str) -> None:
    hooked: list[Usage] = []
    client = make_client(Recorder(), usage_hook=hooked.append)
    result = chat(client, REQUEST, driver)
    assert (result.content, result.finish_reason, result.provider, result.gateway) == (
        "Hello there",
        "stop",
        "openrouter",
        "apipie",
    )
    assert result.usage is not None
    assert result.usage.cost_usd == 0.001
    assert result.usage.latency_ms == 40.0
    deltas = stream(client, REQUEST, driver)
    streamed = StreamAccumulator(gateway="apipie").extend(deltas).result()
    assert streamed.content == result.content
    assert streamed.finish_reason == "stop"
    assert [d.finish_reason for d in deltas] == [None, None, "stop"]
    assert streamed.usage is not None
    assert streamed.usage.latency_ms is not None
    assert len(hooked) == 2
    assert hooked[1] is streamed.usage


def test_a_json_answer_to_a_stream_request_is_read_as_a_completion(driver: str) -> None:
    recorder = Recorder(httpx.Response(200, json=COMPLETION))
    deltas = stream(make_client(recorder), REQUEST, driver)
    assert "".join(d.content for d in deltas) == "Hello there"
    assert deltas[-1].finish_reason == "stop"


def test_non_json_200_is_an_invalid_response(driver: str) -> None:
    recorder = Recorder(
        httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"})
    )
    with pytest.raises(InvalidResponseError, match="not JSON: maintenance"):
        chat(make_client(recorder), REQUEST, driver)
    assert len(recorder.requests) == 1  # not retried


def test_retries_5xx_then_succeeds_and_never_retries_4xx(driver: str) -> None:
    recorder = Recorder(httpx.Response(503, text=""), httpx.Response(502, text="bad gateway"))
    assert chat(make_client(recorder), REQUEST, driver).content == "Hello there"
    assert len(recorder.requests) == 3
    recorder = Recorder(httpx.Response(404, json={"error": {"message": "no such model"}}))
    with pytest.raises(NotFoundError, match="no such model"):
        stream(make_client(recorder), REQUEST, driver)
    assert len(recorder.requests) == 1


def test_gives_up_after_max_retries(driver: str) -> None:
    recorder = Recorder(*(httpx.Response(500, json={"message": "boom"}) for _ in range(5)))
    with pytest.raises(ServerError, match="boom"):
        chat(make_client(recorder, max_retries=1), REQUEST, driver)
    assert len(recorder.requests) == 2


def test_retired_model_error_says_so(driver: str) -> None:
    recorder = Recorder(httpx.Response(404, json={"message": "Model not found", "statusCode": 404}))
    request: ChatRequest = {**REQUEST, "model": "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO"}
    with pytest.raises(NotFoundError) as info:
        chat(make_client(recorder, "aimlapi"), request, driver)
    assert info.value.message.startswith("Model not found — ")
    assert "2025-09-09" in info.value.message
    assert "apipie" in info.value.message


class ClosingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An endless SSE body that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False

    def _events(self) -> Iterator[bytes]:
        n = 0
        while not self.closed and n < 10_000:
            n += 1
            yield sse(content_chunk(f"t{n} "), done=False)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._events()

    async def __aiter__(self) -> Any:
        for chunk in self._events():
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def test_breaking_out_of_a_stream_closes_the_response(driver: str) -> None:
    body = ClosingStream()
    recorder = Recorder(httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body))
    client = make_client(recorder)
    if driver == "sync":
        with client.stream(REQUEST) as s:
            first = next(iter(s))
    else:

        async def go() -> ChatDelta:
            async with client.astream(REQUEST) as s:
                async for delta in s:
                    return delta
            raise AssertionError("no delta")

        first = asyncio.run(go())
    assert first.content == "t1 "
    assert body.closed


def test_one_async_pool_per_event_loop() -> None:
    client = make_client(Recorder())

    async def pool() -> httpx.AsyncClient:
        await client.achat(REQUEST)
        return await client.clients[0]._get_async_client()

    first, second = asyncio.run(pool()), asyncio.run(pool())
    assert first is not second
    assert first.is_closed
    assert second.is_closed

    async def same_loop() -> bool:
        return await client.clients[0]._get_async_client() is await client.clients[0]._get_async_client()

    assert asyncio.run(same_loop())
