"""`merge_call_options`: how both adapters split per-call options into request fields and `extra_body`."""

from __future__ import annotations

from typing import Any

from hermes_gateway._request import REQUEST_FIELDS, merge_call_options


def test_request_fields_are_the_chat_request_options() -> None:
    assert {"temperature", "tools", "tool_choice", "response_format", "stop", "seed"} <= REQUEST_FIELDS
    assert not {"model", "messages", "extra_body"} & REQUEST_FIELDS


def test_fields_go_top_level_and_everything_else_to_extra() -> None:
    request: dict[str, Any] = {"model": "m", "messages": []}
    extra: dict[str, Any] = {"provider": "together"}
    merge_call_options(
        request,
        extra,
        {"temperature": 0.2, "top_k": 40, "extra_body": {"routing": "perf"}, "seed": None, "min_p": None},
    )
    assert request == {"model": "m", "messages": [], "temperature": 0.2}
    assert extra == {"provider": "together", "top_k": 40, "routing": "perf"}
