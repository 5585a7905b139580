"""The key stays out of errors a gateway echoes it into, and off requests redirected to another origin."""

from __future__ import annotations

import httpx
import pytest

from hermes_gateway import AuthenticationError
from hermes_gateway._redact import REDACTED, credential_guard, redact, redact_error

SECRET = "sk-test-SECRET-0123456789abcdef"


def test_redact_walks_strings_dicts_and_lists_without_mutating() -> None:
    body = {"error": {"message": f"Incorrect API key provided: {SECRET}", "hints": [SECRET, 3]}}
    clean = redact(body, SECRET)
    assert clean == {"error": {"message": f"Incorrect API key provided: {REDACTED}", "hints": [REDACTED, 3]}}
    assert SECRET in body["error"]["message"]  # the input is untouched


def test_redact_error_cleans_message_body_headers_and_args() -> None:
    error = AuthenticationError(
        f"Incorrect API key provided: {SECRET}",
        status_code=401,
        gateway="apipie",
        body={"error": {"message": SECRET}},
        headers={"www-authenticate": f"Bearer {SECRET}"},
    )
    redact_error(error, SECRET)
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert SECRET not in repr(error.body)
    assert SECRET not in repr(error.headers)
    assert error.message == f"Incorrect API key provided: {REDACTED}"


def test_placeholder_keys_are_not_redacted_from_ordinary_text() -> None:
    error = AuthenticationError("model ollama not found", status_code=404)
    assert redact_error(error, "ollama").message == "model ollama not found"


def _redirecting_transport(seen: dict[str, httpx.Headers]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen[str(request.url)] = request.headers
        if request.url.host == "gateway.example":
            return httpx.Response(307, headers={"location": "https://elsewhere.example/v1/chat/completions"})
        return httpx.Response(200, json={})

    return httpx.MockTransport(handler)


def test_credential_headers_do_not_follow_a_redirect_to_another_origin() -> None:
    seen: dict[str, httpx.Headers] = {}
    headers = {"authorization": f"Bearer {SECRET}", "x-api-key": SECRET, "api-key": SECRET}
    with httpx.Client(
        transport=_redirecting_transport(seen),
        follow_redirects=True,
        headers=headers,
        event_hooks={"request": [credential_guard("https://gateway.example/v1")]},
    ) as client:
        client.post("https://gateway.example/v1/chat/completions", json={})
    home = seen["https://gateway.example/v1/chat/completions"]
    away = seen["https://elsewhere.example/v1/chat/completions"]
    assert home["x-api-key"] == SECRET
    assert home["authorization"] == f"Bearer {SECRET}"
    assert not {"authorization", "x-api-key", "api-key"} & set(away.keys())


def test_without_the_guard_httpx_would_forward_x_api_key() -> None:
    """The control case: why the guard exists."""
    seen: dict[str, httpx.Headers] = {}
    with httpx.Client(
        transport=_redirecting_transport(seen), follow_redirects=True, headers={"x-api-key": SECRET}
    ) as client:
        client.post("https://gateway.example/v1/chat/completions", json={})
    assert seen["https://elsewhere.example/v1/chat/completions"]["x-api-key"] == SECRET


def test_gateway_client_keeps_x_api_key_home_on_a_cross_origin_redirect() -> None:
    from hermes_gateway import GatewayClient, NotFoundError

    seen: dict[str, httpx.Headers] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[request.url.host] = request.headers
        if request.url.host == "gateway.example":
            return httpx.Response(307, headers={"location": "https://elsewhere.example/v1/chat/completions"})
        return httpx.Response(404, json={"error": {"message": f"no such route (got key {SECRET})"}})

    client = GatewayClient(
        "openai",
        api_key=SECRET,
        base_url="https://gateway.example/v1",
        default_headers={"x-api-key": SECRET},
        max_retries=0,
        transport=httpx.MockTransport(handler),
    )
    with client, pytest.raises(NotFoundError) as info:
        client.chat({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    assert SECRET not in str(info.value)  # echoed by the (other) server, redacted all the same
    assert SECRET not in repr(info.value.body)
    assert seen["gateway.example"]["x-api-key"] == SECRET
    assert not {"authorization", "x-api-key"} & set(seen["elsewhere.example"].keys())
