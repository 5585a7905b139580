"""Every error body shape → the right class, the gateway's own message, request id and retry hints."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from hermes_gateway import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ContextWindowExceededError,
    GatewayError,
    InsufficientCreditsError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
)
from hermes_gateway._error_bodies import error_from_payload, error_from_response, parse_error_data
from hermes_gateway._exceptions import STATUS_ERRORS, error_class_for_status, map_httpx_errors


def err(status: int, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> GatewayError:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return error_from_response(status, httpx.Headers(headers or {}), content, gateway="apipie", **kw)


CASES: list[tuple[int, Any, type[GatewayError], str]] = [
    (
        400,
        {
            "error": {
                "message": "Invalid value for 'n'",
                "type": "invalid_request_error",
                "param": "n",
                "code": None,
            }
        },
        BadRequestError,
        "Invalid value for 'n'",
    ),
    (
        401,
        {
            "message": "This request requires a valid API key.",
            "path": "/v1/chat/completions",
            "requestId": "req-aiml-1",
            "statusCode": 401,
            "timestamp": "2025-01-01T00:00:00Z",
        },
        AuthenticationError,
        "This request requires a valid API key.",
    ),
    (
        403,
        {
            "message": "You've run out of credits. Please top up your balance.",
            "path": "/v1/chat/completions",
            "requestId": "r",
            "statusCode": 403,
            "timestamp": "t",
        },
        InsufficientCreditsError,
        "You've run out of credits. Please top up your balance.",
    ),
    (402, {"code": "ACCOUNT_ERROR"}, InsufficientCreditsError, "ACCOUNT_ERROR from apipie"),
    (
        400,
        {
            "title": "Bad Request",
            "status": 400,
            "message": "Body validation error!",
            "instance": "/v1/chat",
            "requestId": "p-1",
            "timestamp": "t",
            "error": {"name": "ValidationError", "message": "seed must be >= 1"},
        },
        BadRequestError,
        "seed must be >= 1",
    ),
    (
        422,
        {"detail": [{"loc": ["body", "model"], "msg": "field required"}]},
        BadRequestError,
        "field required",
    ),
    (404, {"error": "model not found"}, NotFoundError, "model not found"),
    (
        429,
        {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}},
        RateLimitError,
        "Rate limit",
    ),
    (
        429,
        {"error": {"message": "You exceeded your quota", "type": "insufficient_quota"}},
        InsufficientCreditsError,
        "quota",
    ),
    (500, {"error": {"message": "upstream failed"}}, ServerError, "upstream failed"),
    (504, {"message": "Generation timeout", "statusCode": 504}, ServerError, "Generation timeout"),
    (405, {"error": {"message": "Tool calling is not supported for model"}}, BadRequestError, "Tool calling"),
    (409, {"error": {"message": "conflict"}}, GatewayError, "conflict"),
]


@pytest.mark.parametrize(("status", "body", "cls", "message"), CASES)
def test_json_body_shapes(status: int, body: Any, cls: type[GatewayError], message: str) -> None:
    error = err(status, body)
    assert type(error) is cls
    assert message in error.message
    assert error.status_code == status
    assert error.gateway == "apipie"
    assert error.body == body


def test_html_error_page_quotes_its_title() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1><hr>cloudflare</body></html>"
    error = err(502, page, {"cf-ray": "8a1b2c3d-AMS"})
    assert type(error) is ServerError
    assert error.message == "HTTP 502 from apipie: 502 Bad Gateway"
    assert error.request_id == "8a1b2c3d-AMS"
    assert error.body == page.decode()


def test_html_without_title_is_stripped_and_cut_short() -> None:
    page = (
        "<html><body><script>var x = 1;</script><p>" + "Service unavailable " * 40 + "</p></body></html>"
    ).encode()
    error = err(503, page)
    assert error.message.startswith("HTTP 503 from apipie: Service unavailable")
    assert "<" not in error.message
    assert "var x" not in error.message
    assert len(error.message) < 260


def test_empty_and_plain_text_bodies() -> None:
    assert err(502, b"").message == "HTTP 502 from apipie (empty body)"
    assert err(502, b"   ").body is None
    text = err(500, b"Internal Server Error")
    assert text.message == "HTTP 500 from apipie: Internal Server Error"
    assert text.body == "Internal Server Error"


def test_request_id_from_headers_then_body_then_cf_ray() -> None:
    body = {"message": "nope", "requestId": "from-body"}
    assert err(400, body, {"x-request-id": "xr", "cf-ray": "cf"}).request_id == "xr"
    assert err(400, body, {"request-id": "r2"}).request_id == "r2"
    assert err(400, body, {"cf-ray": "cf"}).request_id == "from-body"
    assert err(400, {"message": "nope"}, {"cf-ray": "cf"}).request_id == "cf"


def test_retry_after_is_parsed_onto_the_error() -> None:
    assert err(429, {"error": {"message": "slow down"}}, {"retry-after": "3"}).retry_after == 3.0
    assert err(503, b"", {"retry-after-ms": "250"}).retry_after == 0.25


def test_context_window_errors_carry_the_numbers() -> None:
    message = (
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens "
        "(8000 in the messages, 1000 in the completion). Please reduce the length of the messages."
    )
    error = err(400, {"error": {"message": message, "code": "context_length_exceeded"}})
    assert isinstance(error, ContextWindowExceededError)
    assert isinstance(error, BadRequestError)
    assert (error.context_window, error.prompt_tokens, error.max_tokens) == (8192, 8000, 1000)


def test_deprecation_hint_is_added_to_400_and_404_only() -> None:
    hint = "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO was retired on aimlapi on 2025-09-09"
    assert err(404, {"message": "Model not found"}, hint=hint).message == f"Model not found — {hint}"
    assert hint not in err(500, {"message": "boom"}, hint=hint).message


def test_a_200_carrying_an_error_object() -> None:
    error = error_from_payload({"error": {"message": "Upstream timeout", "code": 504}}, gateway="aimlapi")
    assert type(error) is ServerError
    assert error.status_code == 504
    assert error.gateway == "aimlapi"
    credit = error_from_payload(
        {"error": {"code": "ACCOUNT_ERROR", "message": "no credit"}}, gateway="apipie"
    )
    assert isinstance(credit, InsufficientCreditsError)


def test_parse_error_data_reads_every_field() -> None:
    data = parse_error_data(
        {"error": {"message": "m", "type": "t", "code": "c", "param": "p", "requestId": "r"}}
    )
    assert (data.message, data.type, data.code, data.param, data.request_id) == ("m", "t", "c", "p", "r")
    assert parse_error_data([{"error": {"message": "wrapped"}}]).message == "wrapped"
    assert parse_error_data("just text").message == "just text"


def test_status_to_class_is_one_table() -> None:
    assert error_class_for_status(502) is ServerError
    assert error_class_for_status(408) is GatewayError
    for status, cls in STATUS_ERRORS.items():
        assert error_class_for_status(status) is cls


def test_str_gives_context_but_message_is_the_gateways_own() -> None:
    error = err(429, {"error": {"message": "Rate limit reached"}}, {"x-request-id": "abc"})
    assert error.message == "Rate limit reached"
    assert str(error) == "Rate limit reached (apipie, HTTP 429, request_id=abc)"


@pytest.mark.parametrize(
    ("exc", "reading_body", "cls"),
    [
        (httpx.ConnectError("refused"), False, APIConnectionError),
        (httpx.ConnectTimeout("slow"), False, APITimeoutError),
        (httpx.ReadTimeout("stalled"), True, APITimeoutError),
        (httpx.RemoteProtocolError("peer closed connection"), True, StreamInterruptedError),
        (httpx.ReadError("reset"), False, APIConnectionError),
    ],
)
def test_httpx_errors_are_translated_in_one_place(exc: Exception, reading_body: bool, cls: type) -> None:
    with pytest.raises(cls) as info, map_httpx_errors("apipie", reading_body=reading_body):
        raise exc
    assert type(info.value) is cls
    assert info.value.__cause__ is exc
