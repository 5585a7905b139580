"""The built-in catalog: contents against the seed table, resolution, deprecations, tool roles, prices."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import warnings
from pathlib import Path

import pytest

from hermes_gateway._catalog import (
    AIMLAPI,
    APIPIE,
    BUILTIN_MODELS,
    OPENAI,
    Deprecation,
    HermesModelDeprecatedWarning,
    ModelInfo,
    Price,
    build_index,
    deprecation_message,
    lookup,
    models_for,
    resolve_model_id,
    warn_if_deprecated,
)

# The APIpie Hermes page's table, as published: (model name, max tokens, response tokens, provider, type).
SEED_TABLE = [
    ("nous-hermes-llama2-13b", 4096, 4096, "openrouter", "llm"),
    ("nous-hermes-2-mixtral-8x7b-dpo", 32768, 32768, "openrouter", "llm"),
    ("nous-hermes-2-vision-7b", 4096, 4096, "openrouter", "vision"),
    ("openhermes-2.5-mistral-7b", 4096, 4096, "openrouter", "llm"),
    ("chronos-hermes-13b-v2", 4096, 4096, "deepinfra", "llm"),
    ("Nous-Hermes-2-Mixtral-8x7B-DPO", 32768, 32768, "together", "llm"),
]
SEED_FILE = (
    next(Path("/work/shared/seeds").glob("000_*.txt"), None) if Path("/work/shared/seeds").is_dir() else None
)


def test_seed_table_matches_the_published_page() -> None:
    if SEED_FILE is None:
        pytest.skip("the seed page is not available on this machine")
    rows = re.findall(
        r"^\|\s*([\w.\-]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*(\w+)\s*\|\s*(\w+)\s*\|",
        SEED_FILE.read_text(),
        re.M,
    )
    parsed = [(n, int(c.replace(",", "")), int(r.replace(",", "")), p, t) for n, c, r, p, t in rows]
    assert parsed == SEED_TABLE


@pytest.mark.parametrize(("name", "context", "response", "provider", "kind"), SEED_TABLE)
def test_every_seed_model_is_in_the_catalog_with_its_limits(
    name: str, context: int, response: int, provider: str, kind: str
) -> None:
    info = lookup(name)
    assert info is not None
    assert info.context_window == context
    assert info.max_output_tokens == response
    assert provider in info.providers[APIPIE]
    assert info.vision is (kind == "vision")
    # every seed model is served by APIpie under exactly the name the table gives
    assert resolve_model_id(name, APIPIE) == name


def test_seed_models_formats_and_tools() -> None:
    expected = {
        "nous-hermes-llama2-13b": "alpaca",
        "nous-hermes-2-mixtral-8x7b-dpo": "chatml",
        "nous-hermes-2-vision-7b": "llava",
        "openhermes-2.5-mistral-7b": "chatml",
        "chronos-hermes-13b-v2": "alpaca",
    }
    for name, prompt_format in expected.items():
        info = lookup(name)
        assert info is not None
        assert info.name == name
        assert info.prompt_format == prompt_format
        assert info.native_tools == frozenset()
        assert not info.trained_tool_calls
        assert not info.reasoning


def test_current_models_ids_and_limits() -> None:
    expected = {
        "hermes-2-pro-llama-3-8b": (8192, {APIPIE: "hermes-2-pro-llama-3-8b"}),
        "hermes-3-llama-3.1-8b": (131072, {}),
        "hermes-3-llama-3.1-70b": (
            131072,
            {APIPIE: "hermes-3-llama-3-1-70b", AIMLAPI: "nousresearch/hermes-3-llama-3.1-70b"},
        ),
        "hermes-3-llama-3.1-405b": (
            131072,
            {APIPIE: "hermes-3-llama-3-1-405b", AIMLAPI: "nousresearch/hermes-3-llama-3.1-405b"},
        ),
        "hermes-4-70b": (131072, {APIPIE: "hermes-4-70b", AIMLAPI: "nousresearch/hermes-4-70b"}),
        "hermes-4-405b": (131072, {APIPIE: "hermes-4-405b", AIMLAPI: "nousresearch/hermes-4-405b"}),
    }
    for name, (context, ids) in expected.items():
        info = lookup(name)
        assert info is not None
        assert info.name == name
        assert info.context_window == context
        assert dict(info.gateway_ids) == ids
        assert info.trained_tool_calls
        assert info.reasoning is name.startswith("hermes-4")
    assert {m.name for m in BUILTIN_MODELS} == {row[0] for row in SEED_TABLE[:5]} | set(expected)


def test_catalog_invariants() -> None:
    names = [m.name for m in BUILTIN_MODELS]
    assert len(names) == len(set(names))
    for info in BUILTIN_MODELS:
        assert 0 < info.max_output_tokens <= info.context_window
        assert info.prompt_format in {"chatml", "alpaca", "llama3", "llava"}
        assert set(info.gateway_ids) <= {APIPIE, AIMLAPI}
        assert info.native_tools <= {AIMLAPI, OPENAI}
        assert info.prices == {}  # no documented price: unknown, never invented
        assert info.hf_id is not None
        assert lookup(info.hf_id) is info


def test_native_tools_per_gateway() -> None:
    hermes3 = lookup("hermes-3-llama-3.1-70b")
    assert hermes3 is not None
    # AI/ML API: the spec declares tools but nothing confirms Hermes uses them (gateways.md Corrections):
    # declared, not relied on by auto mode; the evidence says so.
    assert not hermes3.supports_native_tools(AIMLAPI)
    assert hermes3.declares_tools(AIMLAPI)
    assert hermes3.tool_evidence[AIMLAPI].startswith("unconfirmed")
    assert hermes3.supports_native_tools(OPENAI)
    assert hermes3.tool_evidence[OPENAI].startswith("confirmed")
    # APIpie sends `tools` requests to its tools_model (gpt-4o-mini by default): prompt mode there.
    assert not hermes3.supports_native_tools(APIPIE)
    mixtral = lookup("nous-hermes-2-mixtral-8x7b-dpo")
    assert mixtral is not None
    assert not any(mixtral.supports_native_tools(g) for g in (APIPIE, AIMLAPI, OPENAI))
    assert not mixtral.declares_tools(AIMLAPI)  # its AI/ML API spec has no tools at all


# --- resolution -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "hermes-3-llama-3.1-70b",
        "hermes-3-llama-3-1-70b",
        "NousResearch/Hermes-3-Llama-3.1-70B",
        "nousresearch/hermes-3-llama-3.1-70b",
        "HERMES-3-LLAMA-3.1-70B",
        "  hermes-3-llama-3.1-70b  ",
        "NousResearch/hermes-3-llama-3-1-70b",
        "hermes3:70b",
    ],
)
def test_every_spelling_resolves_to_one_model(spelling: str) -> None:
    info = lookup(spelling)
    assert info is not None
    assert info.name == "hermes-3-llama-3.1-70b"
    assert resolve_model_id(spelling, APIPIE) == "hermes-3-llama-3-1-70b"
    assert resolve_model_id(spelling, AIMLAPI) == "nousresearch/hermes-3-llama-3.1-70b"


def test_each_gateway_id_resolves_to_the_other_gateways_id() -> None:
    for info in BUILTIN_MODELS:
        for gateway, model_id in info.gateway_ids.items():
            assert lookup(model_id) is info
            assert resolve_model_id(model_id, gateway) == model_id
            for other, other_id in info.gateway_ids.items():
                assert resolve_model_id(model_id, other) == other_id


def test_unknown_names_pass_through() -> None:
    assert lookup("gpt-4o") is None
    assert resolve_model_id("gpt-4o", APIPIE) == "gpt-4o"
    assert resolve_model_id("deephermes-3-llama-3-8b-preview", AIMLAPI) == "deephermes-3-llama-3-8b-preview"
    assert resolve_model_id("", APIPIE) == ""


def test_known_model_without_an_id_on_the_gateway_passes_through() -> None:
    assert resolve_model_id("hermes-3-llama-3.1-8b", APIPIE) == "hermes-3-llama-3.1-8b"
    assert resolve_model_id("nous-hermes-llama2-13b", AIMLAPI) == "nous-hermes-llama2-13b"
    assert resolve_model_id("hermes-2-pro-llama-3-8b", AIMLAPI) == "hermes-2-pro-llama-3-8b"


def test_local_servers_get_the_name_as_given() -> None:
    assert (
        resolve_model_id("NousResearch/Hermes-3-Llama-3.1-8B", OPENAI) == "NousResearch/Hermes-3-Llama-3.1-8B"
    )
    assert resolve_model_id("hermes3:8b", OPENAI) == "hermes3:8b"
    assert resolve_model_id("hermes-4-70b", OPENAI) == "hermes-4-70b"


def test_an_alternative_id_of_the_same_gateway_is_kept() -> None:
    # The seed table lists the Mixtral under two APIpie names (openrouter and together routes).
    assert resolve_model_id("Nous-Hermes-2-Mixtral-8x7B-DPO", APIPIE) == "Nous-Hermes-2-Mixtral-8x7B-DPO"
    assert resolve_model_id("hermes-2-mixtral-8x7b-dpo", APIPIE) == "hermes-2-mixtral-8x7b-dpo"
    assert (
        resolve_model_id("nous-hermes-2-mixtral-8x7b-dpo", AIMLAPI)
        == "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO"
    )


def test_index_rejects_a_name_claimed_by_two_models() -> None:
    a = ModelInfo(
        name="a",
        gateway_ids={APIPIE: "shared"},
        context_window=1,
        max_output_tokens=1,
        prompt_format="chatml",
    )
    b = ModelInfo(
        name="b",
        gateway_ids={AIMLAPI: "Shared"},
        context_window=1,
        max_output_tokens=1,
        prompt_format="chatml",
    )
    with pytest.raises(ValueError, match="claimed by both 'a' and 'b'"):
        build_index([a, b])


def test_models_for_a_gateway() -> None:
    on_aimlapi = {m.name for m in models_for(AIMLAPI)}
    assert on_aimlapi == {
        "nous-hermes-2-mixtral-8x7b-dpo",
        "hermes-3-llama-3.1-70b",
        "hermes-3-llama-3.1-405b",
        "hermes-4-70b",
        "hermes-4-405b",
    }
    assert len(models_for(APIPIE)) == len(BUILTIN_MODELS) - 1  # all but Hermes 3 8B
    assert models_for() == BUILTIN_MODELS


# --- deprecations and tool roles --------------------------------------------------------------------------


def test_aimlapi_mixtral_is_deprecated_with_a_replacement() -> None:
    info = lookup("NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO")
    assert info is not None
    dep = info.deprecation(AIMLAPI)
    assert dep is not None
    assert dep.date == dt.date(2025, 9, 9)
    assert dep.replacement == "nousresearch/hermes-3-llama-3.1-70b"
    replacement = lookup(dep.replacement)
    assert replacement is not None
    assert replacement.gateway_ids[AIMLAPI] == dep.replacement
    assert replacement.deprecation(AIMLAPI) is None
    assert info.deprecation(APIPIE) is None
    # still fully described: metadata and context window intact
    assert info.context_window == 32768
    assert info.default_max_tokens[AIMLAPI] == 512


def test_warn_if_deprecated_names_date_replacement_and_other_gateway() -> None:
    def adapter_constructor() -> Deprecation | None:
        return warn_if_deprecated("nous-hermes-2-mixtral-8x7b-dpo", AIMLAPI)

    with pytest.warns(HermesModelDeprecatedWarning) as record:
        dep = adapter_constructor()
    assert dep is not None
    assert dep.date == dt.date(2025, 9, 9)
    message = str(record[0].message)
    assert "NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO" in message
    assert "2025-09-09" in message
    assert "'nousresearch/hermes-3-llama-3.1-70b'" in message  # case kept
    assert "gateway='apipie'" in message
    assert (
        record[0].filename == __file__
    )  # points at the adapter's caller, like warnings.warn(stacklevel=2) in the adapter


def test_no_warning_where_not_deprecated() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_deprecated("nous-hermes-2-mixtral-8x7b-dpo", APIPIE) is None
        assert warn_if_deprecated("hermes-4-70b", AIMLAPI) is None
        assert warn_if_deprecated("not-a-model", AIMLAPI) is None


def test_deprecation_message_for_a_future_date_and_no_alternatives() -> None:
    info = ModelInfo(
        name="x",
        gateway_ids={AIMLAPI: "x-id"},
        context_window=1,
        max_output_tokens=1,
        prompt_format="chatml",
        deprecations={AIMLAPI: Deprecation(dt.date(2999, 1, 1), "going away")},
    )
    assert deprecation_message(info, AIMLAPI) == "x-id will be retired on aimlapi on 2999-01-01: going away."
    assert deprecation_message(info, APIPIE) is None


def test_tool_roles() -> None:
    def role(name: str, gateway: str) -> str:
        info = lookup(name)
        assert info is not None
        return info.tool_role(gateway)

    assert role("nous-hermes-2-mixtral-8x7b-dpo", AIMLAPI) == "user"  # its AI/ML API spec has no tool role
    assert role("hermes-3-llama-3.1-70b", AIMLAPI) == "tool"
    assert role("hermes-4-405b", APIPIE) == "tool"
    assert role("hermes-2-pro-llama-3-8b", OPENAI) == "tool"
    assert role("nous-hermes-llama2-13b", APIPIE) == "user"  # not trained with a tool role


# --- prices and cost --------------------------------------------------------------------------------------


def test_cost_is_none_when_the_price_is_unknown() -> None:
    info = lookup("hermes-4-70b")
    assert info is not None
    assert info.cost_usd(APIPIE, 1000, 1000) is None
    assert info.cost_usd(AIMLAPI, 0, 0) is None


def test_cost_arithmetic_per_million_tokens() -> None:
    base = lookup("hermes-4-70b")
    assert base is not None
    priced = dataclasses.replace(base, prices={APIPIE: Price(0.5, 2.0)})
    assert priced.cost_usd(APIPIE, 1_000_000, 0) == pytest.approx(0.5)
    assert priced.cost_usd(APIPIE, 0, 1_000_000) == pytest.approx(2.0)
    assert priced.cost_usd(APIPIE, 1234, 567) == pytest.approx((1234 * 0.5 + 567 * 2.0) / 1e6)
    assert priced.cost_usd(APIPIE, 0, 0) == 0.0
    assert priced.cost_usd(AIMLAPI, 1234, 567) is None
    with pytest.raises(ValueError, match=">= 0"):
        priced.cost_usd(APIPIE, -1, 0)


def test_model_info_is_immutable_and_hashable() -> None:
    ids = {APIPIE: "p"}
    info = ModelInfo(
        name="m", gateway_ids=ids, context_window=10, max_output_tokens=5, prompt_format="chatml"
    )
    ids[APIPIE] = "changed"
    assert info.gateway_ids[APIPIE] == "p"  # copied
    with pytest.raises(TypeError):
        info.gateway_ids[APIPIE] = "q"  # type: ignore[index]  # read-only view, the point of the test
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "n"  # type: ignore[misc]  # frozen, the point of the test
    assert {info: 1}[info] == 1
    assert len({m for m in BUILTIN_MODELS}) == len(BUILTIN_MODELS)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("hermes3", "hermes-3-llama-3.1-8b"),
        ("hermes3:latest", "hermes-3-llama-3.1-8b"),
        ("hermes3:8b-llama3.1-q4_K_M", "hermes-3-llama-3.1-8b"),
        ("hermes3:70b-llama3.1-q8_0", "hermes-3-llama-3.1-70b"),
    ],
)
def test_ollama_tags_resolve_with_and_without_quantisation(tag: str, expected: str) -> None:
    info = lookup(tag)
    assert info is not None
    assert info.name == expected
    assert info.context_window == 131072


def test_unknown_ollama_tag_stays_unknown() -> None:
    assert lookup("llama3:8b-instruct-q4_0") is None
