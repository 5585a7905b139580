"""The retry policy, as pure decisions: which errors, how long, how many times."""

from __future__ import annotations

import email.utils
import logging

import pytest

from hermes_gateway import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    GatewayError,
    InsufficientCreditsError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterruptedError,
)
from hermes_gateway._retry import is_retryable, parse_retry_after

NO_JITTER = RetryPolicy(random=lambda: 0.0)


@pytest.mark.parametrize(
    "error",
    [
        APIConnectionError("refused"),
        APITimeoutError("slow"),
        StreamInterruptedError("cut"),
        GatewayError("timeout", status_code=408),
        GatewayError("conflict", status_code=409),
        RateLimitError("slow down", status_code=429),
        ServerError("boom", status_code=500),
        ServerError("bad gateway", status_code=502),
        ServerError("unavailable", status_code=503),
    ],
)
def test_retryable(error: GatewayError) -> None:
    assert is_retryable(error)
    assert NO_JITTER.next_delay(0, error) == 0.5


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("bad", status_code=400),
        AuthenticationError("key", status_code=401),
        InsufficientCreditsError("money", status_code=402),
        AuthenticationError("forbidden", status_code=403),
        NotFoundError("gone", status_code=404),
        BadRequestError("invalid", status_code=422),
        InsufficientCreditsError("quota", status_code=429),  # 429 insufficient_quota: waiting will not help
        MissingAPIKeyError("set APIPIE_API_KEY"),
        InvalidResponseError("garbled", status_code=200),
        GatewayError("in-band error", status_code=200),
    ],
)
def test_not_retryable(error: GatewayError) -> None:
    assert not is_retryable(error)
    assert NO_JITTER.next_delay(0, error) is None


def test_exponential_backoff_capped_at_eight_seconds() -> None:
    policy = RetryPolicy(max_retries=10, random=lambda: 0.0)
    error = ServerError("x", status_code=503)
    assert [policy.next_delay(n, error) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_shortens_by_at_most_a_quarter() -> None:
    error = ServerError("x", status_code=503)
    assert RetryPolicy(random=lambda: 0.999).next_delay(1, error) == pytest.approx(1.0 * (1 - 0.25 * 0.999))


def test_gives_up_after_max_retries() -> None:
    error = APIConnectionError("refused")
    policy = RetryPolicy(max_retries=2, random=lambda: 0.0)
    assert policy.next_delay(1, error) is not None
    assert policy.next_delay(2, error) is None
    assert RetryPolicy(max_retries=0).next_delay(0, error) is None


def test_server_retry_after_is_honoured_when_sane() -> None:
    assert NO_JITTER.next_delay(0, RateLimitError("x", status_code=429, retry_after=3.0)) == 3.0
    assert NO_JITTER.next_delay(0, RateLimitError("x", status_code=429, retry_after=0.0)) == 0.0
    assert NO_JITTER.next_delay(0, RateLimitError("x", status_code=429, retry_after=600.0)) == 0.5  # insane
    assert NO_JITTER.next_delay(0, RateLimitError("x", status_code=429, retry_after=-5.0)) == 0.5  # past


def test_parse_retry_after_order_ms_then_seconds_then_date() -> None:
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after": " 2.5 "}) == 2.5
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 4, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=now) == pytest.approx(4.0)
    past = parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}, now=now)
    assert past is not None
    assert past < 0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after-ms": "x"}) is None
    assert parse_retry_after({}) is None


def test_each_decision_is_logged_at_debug_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="hermes_gateway"):
        NO_JITTER.next_delay(0, ServerError("boom", status_code=503, gateway="apipie"))
        NO_JITTER.next_delay(0, BadRequestError("bad", status_code=400, gateway="apipie"))
        NO_JITTER.next_delay(2, ServerError("boom", status_code=503, gateway="apipie"))
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0].startswith("retrying apipie in 0.50s (retry 1 of 2)")
    assert "not retryable" in messages[1]
    assert "retries spent" in messages[2]
