"""GatewayClient against the loopback replica with injected faults, through the sync and the async path.

Each case ends in a success after safe retries or in a typed GatewayError carrying the gateway's message —
never a partial answer presented as complete, never a hang. Delays are kept short so the module runs in a
few seconds: the retry backoff is shortened to 10 ms (a server's Retry-After is still honoured).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hermes_gateway import (
    APIConnectionError,
    APITimeoutError,
    ChatDelta,
    ChatRequest,
    GatewayClient,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamAccumulator,
    StreamInterruptedError,
)
from tests.replica import PASS, Fault, Replica, http_date

from ._drivers import chat, stream, stream_until

REQUEST: ChatRequest = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}
KEY = "sk-replica-test-key"


_OPEN: list[GatewayClient] = []


def client_for(replica: Replica, gateway: str = "apipie", **kw: Any) -> GatewayClient:
    kw.setdefault("max_retries", 2)
    client = GatewayClient(gateway, api_key=KEY, base_url=replica[gateway].base_url, **kw)
    client.retry_policy = RetryPolicy(max_retries=client.max_retries, initial_delay=0.01, max_delay=0.05)
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close the sync pools the test opened (each asyncio.run already closed its own async pool)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def text_of(deltas: list[ChatDelta]) -> str:
    return StreamAccumulator().extend(deltas).result().content


def test_clean_reply_both_dialects(replica: Replica, driver: str) -> None:
    for gateway in ("apipie", "aimlapi"):
        client = client_for(replica, gateway)
        result = chat(client, REQUEST, driver)
        deltas = stream(client, REQUEST, driver)
        assert result.content.startswith("Hello!")
        assert result.finish_reason == "stop"
        assert text_of(deltas) == result.content
        assert deltas[-1].finish_reason == "stop"
        assert deltas[-1].usage is not None
        assert deltas[-1].gateway == gateway  # who served, even when a gateway sends no usage
        assert [d.gateway for d in deltas[:-1]] == [None] * (len(deltas) - 1)
        assert [d for d in deltas if d.finish_reason is not None] == [deltas[-1]]
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in replica.requests)


def test_429_retry_after_seconds_is_honoured(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.rate_limited(retry_after=0.3), PASS)
    started = time.perf_counter()
    result = chat(client_for(replica), REQUEST, driver)
    assert result.content.startswith("Hello!")
    assert len(replica.apipie.requests) == 2
    assert time.perf_counter() - started >= 0.3  # the server's wait, not the 10 ms backoff


def test_429_retry_after_http_date_then_stream_success(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.rate_limited(retry_after=http_date(1)), PASS)
    started = time.perf_counter()
    deltas = stream(client_for(replica), REQUEST, driver)
    assert text_of(deltas).startswith("Hello!")
    assert len(replica.apipie.requests) == 2
    assert time.perf_counter() - started < 3.0


def test_429_until_retries_are_spent(replica: Replica, driver: str) -> None:
    replica.aimlapi.enqueue(*(Fault.rate_limited(retry_after=0) for _ in range(3)))
    with pytest.raises(RateLimitError) as info:
        chat(client_for(replica, "aimlapi"), REQUEST, driver)
    assert info.value.status_code == 429
    assert info.value.retry_after == 0.0
    assert len(replica.aimlapi.requests) == 3


def test_5xx_sequence_then_success(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(500), Fault.error(503), PASS)
    assert stream(client_for(replica), REQUEST, driver)[-1].finish_reason == "stop"
    assert len(replica.apipie.requests) == 3


def test_html_error_page(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.html(502), Fault.html(502))
    with pytest.raises(ServerError) as info:
        chat(client_for(replica, max_retries=1), REQUEST, driver)
    assert info.value.message.startswith("HTTP 502 from apipie: ")
    assert "<" not in info.value.message
    assert len(replica.apipie.requests) == 2


def test_account_error_is_not_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.account_error())
    with pytest.raises(InsufficientCreditsError):
        stream(client_for(replica), REQUEST, driver)
    assert len(replica.apipie.requests) == 1


def test_200_carrying_an_error_object(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(*(Fault.error_200("Upstream provider returned an error") for _ in range(2)))
    with pytest.raises(GatewayError) as info:
        stream(client_for(replica, max_retries=1), REQUEST, driver)
    assert info.value.message == "Upstream provider returned an error"
    replica.apipie.enqueue(Fault.error_200("flaky upstream"), PASS)
    assert chat(client_for(replica), REQUEST, driver).content.startswith("Hello!")


def test_reset_before_headers_is_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.reset(), PASS)
    assert chat(client_for(replica), REQUEST, driver).content.startswith("Hello!")
    replica.apipie.enqueue(Fault.reset(), Fault.reset())
    with pytest.raises(APIConnectionError):
        stream(client_for(replica, max_retries=1), REQUEST, driver)


def test_reset_mid_stream_before_the_first_delta_is_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.reset(after=1), PASS)  # only the empty role chunk went out
    assert text_of(stream(client_for(replica), REQUEST, driver)).startswith("Hello!")
    assert len(replica.apipie.requests) == 2


def test_reset_mid_stream_after_a_delta_raises_and_is_not_retried(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.reset(after=3), PASS)
    seen: list[ChatDelta] = []
    with pytest.raises(StreamInterruptedError):
        stream_until(client_for(replica), REQUEST, driver, seen)
    assert text_of(seen) == "Hello! I"
    assert all(d.finish_reason is None for d in seen)
    assert len(replica.apipie.requests) == 1


def test_truncated_stream_is_interrupted(replica: Replica, driver: str) -> None:
    replica.aimlapi.enqueue(Fault.truncate(after=4))
    seen: list[ChatDelta] = []
    with pytest.raises(StreamInterruptedError, match="before a finish_reason"):
        stream_until(client_for(replica, "aimlapi"), REQUEST, driver, seen)
    assert seen
    assert len(replica.aimlapi.requests) == 1


def test_malformed_json_chunk(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.malformed(at=3))
    with pytest.raises(InvalidResponseError, match="malformed JSON chunk"):
        stream(client_for(replica), REQUEST, driver)


def test_slow_first_byte_times_out(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.slow_first_byte(1.5), Fault.slow_first_byte(1.5))
    started = time.perf_counter()
    with pytest.raises(APITimeoutError):
        stream(client_for(replica, timeout=0.25, max_retries=1), REQUEST, driver)
    assert time.perf_counter() - started < 1.2  # two attempts of 0.25 s, no waiting for the server
    assert len(replica.apipie.requests) == 2


def test_stalled_stream_times_out_after_the_first_delta(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.stall(after=2, seconds=1.5))
    seen: list[ChatDelta] = []
    started = time.perf_counter()
    with pytest.raises(APITimeoutError, match="next chunk"):
        stream_until(client_for(replica, timeout=0.25), REQUEST, driver, seen)
    assert time.perf_counter() - started < 1.0
    assert seen
    assert len(replica.apipie.requests) == 1


def test_one_client_across_several_event_loops(replica: Replica) -> None:
    client = client_for(replica)

    async def once() -> str:
        result = await client.achat(REQUEST)
        async with client.astream(REQUEST) as s:
            deltas = [d async for d in s]
        return result.content + "|" + text_of(deltas)

    first, second, third = (asyncio.run(once()) for _ in range(3))
    assert first == second == third
    assert first.startswith("Hello!")
    assert client.chat(REQUEST).content == first.split("|")[0]
