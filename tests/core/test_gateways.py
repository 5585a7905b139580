"""The dialect table's capabilities and `json_mode_via_prompt`, the JSON-mode decision both adapters share."""

from __future__ import annotations

import pytest

from hermes_gateway import DIALECTS, lookup
from hermes_gateway._gateways import json_mode_via_prompt


def test_response_format_capability_per_gateway() -> None:
    assert {name: d.accepts_response_format for name, d in DIALECTS.items()} == {
        "apipie": False,  # not in APIpie's documented request fields
        "aimlapi": True,
        "openai": True,
    }


@pytest.mark.parametrize(
    ("gateways", "model", "tool_mode", "via_prompt"),
    [
        (("aimlapi",), "hermes-3-llama-3.1-70b", "auto", False),
        (("openai",), "hermes-3-llama-3.1-70b", "native", False),
        (("apipie",), "hermes-3-llama-3.1-70b", "auto", True),
        (("apipie",), "hermes-3-llama-3.1-70b", "native", True),
        (("aimlapi",), "hermes-3-llama-3.1-70b", "hermes", True),
        (("aimlapi", "apipie"), "hermes-3-llama-3.1-70b", "auto", True),  # failover may reach APIpie
        (("aimlapi", "openai"), "hermes-3-llama-3.1-70b", "auto", False),
        (("aimlapi",), "some-unknown-model", "auto", False),
    ],
)
def test_json_mode_via_prompt(
    gateways: tuple[str, ...], model: str, tool_mode: str, via_prompt: bool
) -> None:
    assert json_mode_via_prompt(gateways, lookup(model), tool_mode) is via_prompt


def test_auto_mode_model_without_native_tools_uses_the_prompt() -> None:
    info = lookup("nous-hermes-2-mixtral-8x7b-dpo")
    assert info is not None
    assert not info.supports_native_tools("aimlapi")
    assert json_mode_via_prompt(("aimlapi",), info, "auto")
    assert not json_mode_via_prompt(("aimlapi",), info, "native")


def test_unknown_gateway_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown gateway"):
        json_mode_via_prompt(("openrouter",), None, "auto")
