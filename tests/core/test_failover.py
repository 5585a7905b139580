"""GatewayClient against the loopback replica: APIpie fails in various ways, AI/ML API serves — or not.

Every behavioural test runs through the sync and the async path (`driver` fixture). Retries are real (each
gateway's own client retries before the next gateway gets the request) but their backoff is 10 ms.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from hermes_gateway import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatDelta,
    ChatRequest,
    ChatResult,
    GatewayClient,
    GatewayError,
    InsufficientCreditsError,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamAccumulator,
    StreamInterruptedError,
    VisionNotSupportedError,
)
from hermes_gateway._client import failover_reason
from tests.replica import PASS, Fault, Replica

REQUEST: ChatRequest = {"model": "hermes-3-llama-3.1-70b", "messages": [{"role": "user", "content": "Hi"}]}
HI = [{"role": "user", "content": "Hi"}]
MIXTRAL: ChatRequest = {"model": "nous-hermes-2-mixtral-8x7b-dpo", "messages": HI}
KEYS = {"apipie": "sk-failover-apipie-1234", "aimlapi": "sk-failover-aimlapi-5678"}

_OPEN: list[GatewayClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make(replica: Replica, gateways: list[str] | None = None, **kw: Any) -> GatewayClient:
    names = gateways or ["apipie", "aimlapi"]
    kw.setdefault("max_retries", 1)
    kw.setdefault("timeout", 2.0)
    kw.setdefault("api_key", {name: KEYS[name] for name in names})
    client = GatewayClient(names, base_url={name: replica[name].base_url for name in names}, **kw)
    for each in client.clients:
        each.retry_policy = RetryPolicy(max_retries=each.max_retries, initial_delay=0.01, max_delay=0.05)
    _OPEN.append(client)
    return client


def chat(client: GatewayClient, request: ChatRequest, driver: str) -> ChatResult:
    if driver == "sync":
        return client.chat(request)
    return asyncio.run(client.achat(request))


def stream(
    client: GatewayClient, request: ChatRequest, driver: str, seen: list[ChatDelta] | None = None
) -> tuple[list[ChatDelta], str | None]:
    """All deltas (also appended to `seen` as they arrive) and the stream's `gateway`."""
    out = seen if seen is not None else []
    if driver == "sync":
        with client.stream(request) as s:
            for delta in s:
                out.append(delta)
            return out, s.gateway

    async def go() -> tuple[list[ChatDelta], str | None]:
        async with client.astream(request) as s:
            async for delta in s:
                out.append(delta)
            return out, s.gateway

    return asyncio.run(go())


def text_of(deltas: list[ChatDelta]) -> str:
    return StreamAccumulator().extend(deltas).result().content


def served_by(result: ChatResult, gateway: str) -> None:
    assert result.content.startswith("Hello!")
    assert result.gateway == gateway
    assert result.usage is not None
    assert result.usage.gateway == gateway


# -- failing over --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Fault.error(503), Fault.error(500)], id="5xx"),
        pytest.param([Fault.reset(), Fault.reset()], id="reset-before-headers"),
        pytest.param([Fault.rate_limited(retry_after=0), Fault.rate_limited(retry_after=0)], id="429"),
        pytest.param([Fault.html(502), Fault.empty(504)], id="proxy-pages"),
    ],
)
def test_chat_fails_over_once_retries_are_spent(replica: Replica, driver: str, faults: list[Fault]) -> None:
    replica.apipie.enqueue(*faults)
    result = chat(make(replica), REQUEST, driver)
    served_by(result, "aimlapi")
    assert len(replica.apipie.requests) == 2  # the first attempt and its one retry
    assert len(replica.aimlapi.requests) == 1
    # each gateway got its own model id and its own key
    assert [r.json["model"] for r in replica.requests] == [
        "hermes-3-llama-3-1-70b",
        "hermes-3-llama-3-1-70b",
        "nousresearch/hermes-3-llama-3.1-70b",
    ]
    for r in replica.requests:
        assert r.headers["authorization"] == f"Bearer {KEYS[r.dialect]}"


def test_a_retry_that_succeeds_does_not_fail_over(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(503), PASS)
    served_by(chat(make(replica), REQUEST, driver), "apipie")
    assert not replica.aimlapi.requests


def test_the_primary_serves_when_healthy(replica: Replica, driver: str) -> None:
    client = make(replica)
    served_by(chat(client, REQUEST, driver), "apipie")
    deltas, gateway = stream(client, REQUEST, driver)
    assert gateway == "apipie"
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.gateway == "apipie"
    assert not replica.aimlapi.requests


def test_timeout_fails_over(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.slow_first_byte(1.0))
    client = make(replica, max_retries=0, timeout=0.25)
    served_by(chat(client, REQUEST, driver), "aimlapi")


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.reset(after=1), id="reset-after-the-role-chunk"),  # no delta had gone out
        pytest.param(Fault.truncate(after=0), id="empty-stream"),  # StreamInterruptedError, nothing seen
    ],
)
def test_stream_fails_over_before_its_first_delta(replica: Replica, driver: str, fault: Fault) -> None:
    replica.apipie.enqueue(fault)
    deltas, gateway = stream(make(replica, max_retries=0), REQUEST, driver)
    assert gateway == "aimlapi"
    assert text_of(deltas).startswith("Hello!")
    assert [d for d in deltas if d.finish_reason] == [deltas[-1]]
    assert deltas[-1].usage is not None
    assert deltas[-1].usage.gateway == "aimlapi"
    assert len(replica.apipie.requests) == 1
    assert len(replica.aimlapi.requests) == 1


def test_stream_does_not_fail_over_after_its_first_delta(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.reset(after=3))
    seen: list[ChatDelta] = []
    with pytest.raises(StreamInterruptedError) as info:
        stream(make(replica, max_retries=0), REQUEST, driver, seen)
    assert text_of(seen) == "Hello! I"  # the caller has these: another gateway must not start over
    assert info.value.gateway == "apipie"
    assert not replica.aimlapi.requests


def test_every_gateway_failing_raises_the_last_error_with_the_attempts(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(503), Fault.error(503))
    replica.aimlapi.enqueue(Fault.rate_limited(retry_after=0), Fault.rate_limited(retry_after=0))
    with pytest.raises(RateLimitError) as info:
        chat(make(replica), REQUEST, driver)
    attempts = info.value.attempts  # type: ignore[attr-defined]  # set by GatewayClient
    assert [type(e) for e in attempts] == [ServerError, RateLimitError]
    assert [e.gateway for e in attempts] == ["apipie", "aimlapi"]
    assert attempts[-1] is info.value


def test_failover_is_logged_without_the_key(
    replica: Replica, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    replica.apipie.enqueue(Fault.error(503))
    with caplog.at_level(logging.DEBUG, logger="hermes_gateway"):
        served_by(chat(make(replica, max_retries=0), REQUEST, driver), "aimlapi")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "failing over from apipie to aimlapi" in warnings[0]
    assert "ServerError" in warnings[0]
    for record in caplog.records:
        for key in KEYS.values():
            assert key not in record.getMessage()


# -- not failing over ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.error(400, "max_tokens must be positive"), BadRequestError),
        (Fault.error(401), AuthenticationError),
        (Fault.account_error(), InsufficientCreditsError),
        (Fault.error(403, "Forbidden"), AuthenticationError),
        (Fault.error(404, "The model does not exist"), NotFoundError),
        (Fault.error(422, "temperature: must be <= 2"), BadRequestError),
        (Fault.error(400, "This model's maximum context length is 131072 tokens"), BadRequestError),
    ],
)
def test_errors_caused_by_the_request_do_not_fail_over(
    replica: Replica, driver: str, fault: Fault, error: type[GatewayError]
) -> None:
    replica.apipie.enqueue(fault)
    with pytest.raises(error) as info:
        chat(make(replica), REQUEST, driver)
    assert info.value.gateway == "apipie"
    assert len(replica.apipie.requests) == 1
    assert not replica.aimlapi.requests


def test_stream_with_a_400_does_not_fail_over(replica: Replica, driver: str) -> None:
    replica.apipie.enqueue(Fault.error(400, "bad request"))
    with pytest.raises(BadRequestError):
        stream(make(replica), REQUEST, driver)
    assert not replica.aimlapi.requests


def test_a_deprecated_model_404_fails_over(replica: Replica, driver: str) -> None:
    # AI/ML API retired Nous-Hermes-2-Mixtral; the replica refuses it with its own 404.
    client = make(replica, ["aimlapi", "apipie"])
    result = chat(client, MIXTRAL, driver)
    assert result.gateway == "apipie"
    assert result.content
    assert [r.json["model"] for r in replica.requests] == [
        "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO",
        "nous-hermes-2-mixtral-8x7b-dpo",
    ]
    deltas, gateway = stream(client, MIXTRAL, driver)
    assert gateway == "apipie"
    assert deltas[-1].finish_reason == "stop"


def test_a_deprecated_model_400_fails_over(replica: Replica, driver: str) -> None:
    replica.aimlapi.enqueue(Fault.error(400, "model is no longer available"))
    result = chat(make(replica, ["aimlapi", "apipie"]), MIXTRAL, driver)
    assert result.gateway == "apipie"


def test_guard_errors_are_raised_before_any_request(replica: Replica, driver: str) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    request: ChatRequest = {
        "model": "hermes-3-llama-3.1-70b",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}],
    }
    with pytest.raises(VisionNotSupportedError):
        chat(make(replica), request, driver)
    assert not replica.requests


# -- choosing the gateways -----------------------------------------------------------------------------------


def test_a_gateway_without_a_key_is_skipped(
    replica: Replica, driver: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = make(replica, api_key={"aimlapi": KEYS["aimlapi"]})
    with caplog.at_level(logging.DEBUG, logger="hermes_gateway"):
        served_by(chat(client, REQUEST, driver), "aimlapi")
    assert not replica.apipie.requests
    assert any("skipping apipie" in r.getMessage() and r.levelno == logging.DEBUG for r in caplog.records)


def test_a_key_from_the_environment_counts(
    replica: Replica, driver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIMLAPI_API_KEY", KEYS["aimlapi"])
    served_by(chat(make(replica, api_key=None), REQUEST, driver), "aimlapi")


def test_no_key_anywhere_names_every_variable(replica: Replica, driver: str) -> None:
    with pytest.raises(MissingAPIKeyError) as info:
        chat(make(replica, api_key=None), REQUEST, driver)
    assert "APIPIE_API_KEY" in str(info.value)
    assert "AIMLAPI_API_KEY" in str(info.value)
    assert not replica.requests


def test_a_gateway_the_catalog_says_lacks_the_model_is_skipped(replica: Replica, driver: str) -> None:
    request: ChatRequest = {"model": "nous-hermes-llama2-13b", "messages": HI}
    result = chat(make(replica, ["aimlapi", "apipie"]), request, driver)
    assert result.gateway == "apipie"
    assert not replica.aimlapi.requests


def test_failover_client_pickles(replica: Replica, driver: str) -> None:
    client = make(replica)
    chat(client, REQUEST, driver)  # pools exist now
    copy = pickle.loads(pickle.dumps(client))
    _OPEN.append(copy)
    assert copy.gateways == ("apipie", "aimlapi")
    replica.apipie.enqueue(Fault.error(503), Fault.error(503))
    served_by(chat(copy, REQUEST, driver), "aimlapi")


def test_one_failover_client_across_event_loops(replica: Replica) -> None:
    client = make(replica, max_retries=0)

    async def once() -> str | None:
        replica.apipie.enqueue(Fault.error(502))
        async with client:
            return (await client.achat(REQUEST)).gateway

    assert [asyncio.run(once()) for _ in range(2)] == ["aimlapi", "aimlapi"]


# -- the factory and the decision ----------------------------------------------------------------------------


def test_one_class_for_one_or_several_gateways() -> None:
    # Issue 12: a single gateway is a list of one (create_client and FailoverClient are gone).
    assert GatewayClient("apipie", api_key="k").gateways == ("apipie",)
    assert GatewayClient(["aimlapi"], api_key={"aimlapi": "k"}).gateways == ("aimlapi",)
    both = GatewayClient("apipie, aimlapi")
    assert both.gateways == ("apipie", "aimlapi")
    local = GatewayClient(["openai", "apipie"], base_url={"openai": "http://localhost:11434/v1"})
    assert local.clients[0].base_url == "http://localhost:11434/v1"
    assert local.clients[1].base_url == "https://apipie.ai/v1"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gateway": []}, "at least one gateway"),
        ({"gateway": ["apipie", "apipie"]}, "twice"),
        ({"gateway": ["apipie", "aimlapi"], "api_key": "sk-one-key"}, "mapping per gateway"),
        ({"gateway": ["apipie", "aimlapi"], "base_url": "https://x.example/v1"}, "mapping per gateway"),
        ({"gateway": ["apipie", "aimlapi"], "api_key": {"apipe": "k"}}, "not in gateway="),
        ({"gateway": ["apipie", "nope"]}, "unknown gateway 'nope'"),
    ],
)
def test_client_refuses_ambiguous_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        GatewayClient(**kwargs)


def test_repr_never_shows_a_key() -> None:
    client = GatewayClient(["apipie", "aimlapi"], api_key=KEYS)
    assert all(key not in repr(client) for key in KEYS.values())


def test_failover_reason_table() -> None:
    from hermes_gateway import lookup

    hermes3 = lookup("hermes-3-llama-3.1-70b")
    mixtral = lookup("nous-hermes-2-mixtral-8x7b-dpo")
    assert failover_reason(APIConnectionError("x"), hermes3, "apipie")
    assert failover_reason(APITimeoutError("x"), hermes3, "apipie")
    assert failover_reason(ServerError("x", status_code=503), hermes3, "apipie")
    assert failover_reason(GatewayError("x", status_code=408), hermes3, "apipie")
    assert not failover_reason(BadRequestError("x", status_code=400), hermes3, "aimlapi")
    assert not failover_reason(NotFoundError("x", status_code=404), None, "aimlapi")
    assert failover_reason(NotFoundError("x", status_code=404), mixtral, "aimlapi")
    assert not failover_reason(NotFoundError("x", status_code=404), mixtral, "apipie")  # not retired there
    assert not failover_reason(AuthenticationError("x", status_code=401), mixtral, "aimlapi")
    assert not failover_reason(MissingAPIKeyError("x"), hermes3, "apipie")
