"""Live model lists: both Models-route shapes, merging over the catalog, fetching with an ETag cache."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from hermes_gateway._catalog import AIMLAPI, APIPIE, BUILTIN_MODELS, lookup
from hermes_gateway._exceptions import APIConnectionError, GatewayError, InvalidResponseError, ServerError
from hermes_gateway._models_api import (
    LiveModel,
    ModelsCache,
    fetch_models,
    is_hermes,
    merge_live,
    models_url,
    parse_aimlapi_models,
    parse_apipie_models,
)

DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def by_id(models: list[LiveModel]) -> dict[tuple[str, str | None], LiveModel]:
    return {(m.id, m.provider): m for m in models}


# --- APIpie shape -----------------------------------------------------------------------------------------


def test_apipie_entries_are_normalised() -> None:
    models = parse_apipie_models(load("apipie_models.json"))
    assert len(models) == 7  # the entry without id / route / model is skipped
    got = by_id(models)
    openrouter = got[("hermes-3-llama-3-1-70b", "openrouter")]
    # numeric strings in USD per token → per 1M tokens
    assert openrouter.input_per_mtok == pytest.approx(0.12)
    assert openrouter.output_per_mtok == pytest.approx(0.30)
    assert openrouter.context_window == 131072
    assert openrouter.max_output_tokens == 131072
    assert openrouter.available is True
    assert openrouter.name == "nousresearch/hermes-3-llama-3.1-70b"
    assert got[("hermes-3-llama-3-1-70b", "deepinfra")].context_window == 65536


def test_apipie_per_million_prices_are_kept() -> None:
    hermes4 = by_id(parse_apipie_models(load("apipie_models.json")))[("hermes-4-405b", "openrouter")]
    assert hermes4.input_per_mtok == 1.0
    assert hermes4.output_per_mtok == 3.0
    assert hermes4.reasoning is True  # subtype "reasoning"


def test_apipie_noise_becomes_unknown() -> None:
    got = by_id(parse_apipie_models(load("apipie_models.json")))
    vision = got[("nous-hermes-2-vision-7b", "openrouter")]
    assert vision.input_per_mtok is None  # negative price
    assert vision.output_per_mtok == pytest.approx(0.2)
    assert vision.price is None  # half a price is no price
    assert vision.available is False  # enabled: 0
    assert vision.vision is True
    mixtral = got[("Nous-Hermes-2-Mixtral-8x7B-DPO", "together")]
    assert mixtral.context_window == 32768  # "32768" as a string
    assert mixtral.available is True  # "1" as a string
    deephermes = got[("deephermes-3-llama-3-8b-preview", "openrouter")]
    assert deephermes.max_output_tokens is None  # 0 is not a limit
    assert deephermes.input_per_mtok == 0.0  # free is a price
    assert deephermes.tools is None  # APIpie does not say


def test_apipie_detailed_confirmed_prices_win() -> None:
    entry = {
        "id": "hermes-4-70b",
        "input_cost": "0.00000099",
        "pricing": {"confirmed": {"input_cost": 0.13, "output_cost": "0.40"}},
    }
    (model,) = parse_apipie_models([entry])
    assert model.input_per_mtok == 0.13
    assert model.output_per_mtok == 0.40


# --- AI/ML API shape --------------------------------------------------------------------------------------


def test_aimlapi_entries_are_normalised() -> None:
    models = parse_aimlapi_models(load("aimlapi_models.json"))
    assert [m.id for m in models] == [
        "nousresearch/hermes-4-70b",
        "nousresearch/hermes-3-llama-3.1-70b",
        "nousresearch/hermes-4-405b",
        "gpt-4o",
    ]
    hermes4, hermes3, hermes4_405, gpt = models
    assert hermes4.aliases == ("hermes-4-70b",)
    assert hermes4.context_window == 131072
    assert hermes4.max_output_tokens == 65536  # outputMax
    assert hermes4.tools is True
    assert hermes4.vision is False  # modalities say text only
    assert hermes4.input_per_mtok == pytest.approx(0.13)
    assert hermes4.output_per_mtok == pytest.approx(0.40)
    assert hermes3.aliases == ()  # null aliases
    assert hermes3.max_output_tokens == 131072  # maxTokens, the older field
    assert hermes3.tools is False  # capabilities declared, without tools
    assert hermes3.input_per_mtok == pytest.approx(390.0)  # 0.39 per 1000 tokens
    assert hermes3.output_per_mtok is None  # negative
    assert hermes4_405.context_window == 131072  # "131072" as a string
    assert hermes4_405.tools is None  # nothing declared: unknown, not "no"
    assert hermes4_405.price is None  # kind: variable
    assert gpt.vision is True
    assert gpt.provider is None


def test_aimlapi_bare_list_shape() -> None:
    bare = load("aimlapi_models.json")["data"]
    assert parse_aimlapi_models(bare) == parse_aimlapi_models(load("aimlapi_models.json"))


@pytest.mark.parametrize("parse", [parse_apipie_models, parse_aimlapi_models])
@pytest.mark.parametrize("payload", [{"object": "list"}, {"data": {}}, "models", None, 3])
def test_a_payload_that_is_not_a_list_is_rejected(
    parse: Callable[[object], list[LiveModel]], payload: object
) -> None:
    with pytest.raises(ValueError, match="list of models"):
        parse(payload)


def test_is_hermes_on_raw_and_parsed_entries() -> None:
    apipie_raw = load("apipie_models.json")["data"]
    aimlapi_raw = load("aimlapi_models.json")["data"]
    assert [is_hermes(e) for e in apipie_raw] == [True] * 6 + [False, False]
    assert [is_hermes(e) for e in aimlapi_raw] == [True, True, True, False, False]
    assert is_hermes({"id": "x", "info": {"name": "Nous Hermes"}})
    assert is_hermes(LiveModel(gateway=AIMLAPI, id="x", aliases=("nousresearch/hermes-9",)))
    assert not is_hermes(LiveModel(gateway=APIPIE, id="gpt-4o"))
    assert [m.id for m in parse_apipie_models(apipie_raw) if is_hermes(m)] == [
        e["id"] for e in apipie_raw[:6]
    ]


# --- merging over the catalog -----------------------------------------------------------------------------


def merged_live() -> dict[str, Any]:
    live = parse_apipie_models(load("apipie_models.json")) + parse_aimlapi_models(load("aimlapi_models.json"))
    return {m.info.name: m for m in merge_live([m for m in live if is_hermes(m)])}


def test_merge_keeps_every_catalog_entry_in_order_then_new_models() -> None:
    merged = merged_live()
    names = list(merged)
    assert names[: len(BUILTIN_MODELS)] == [m.name for m in BUILTIN_MODELS]
    assert names[len(BUILTIN_MODELS) :] == ["deephermes-3-llama-3-8b-preview"]
    assert merged["nous-hermes-llama2-13b"].listed_on == frozenset()
    assert merged["nous-hermes-llama2-13b"].info is lookup("nous-hermes-llama2-13b")  # untouched


def test_merge_lays_live_facts_over_the_catalog() -> None:
    merged = merged_live()
    hermes3 = merged["hermes-3-llama-3.1-70b"]
    assert hermes3.listed_on == {APIPIE, AIMLAPI}
    assert hermes3.providers[APIPIE] == ("openrouter", "deepinfra")
    info = hermes3.info
    assert info.context_window == 65536  # the smallest a live list reports
    assert info.gateway_ids == lookup("hermes-3-llama-3.1-70b").gateway_ids  # type: ignore[union-attr]
    assert info.price(APIPIE) is not None
    assert info.cost_usd(APIPIE, 1000, 2000) == pytest.approx((1000 * 0.12 + 2000 * 0.30) / 1e6)
    assert info.cost_usd(AIMLAPI, 1000, 2000) is None  # half a price on AI/ML API
    assert not info.declares_tools(AIMLAPI)  # the live list declared capabilities without tools
    hermes4 = merged["hermes-4-70b"].info
    assert hermes4.declares_tools(AIMLAPI)  # declared by the list...
    assert not hermes4.supports_native_tools(AIMLAPI)  # ...which is a claim, not a confirmation
    assert hermes4.max_output_tokens == 65536
    assert hermes4.cost_usd(AIMLAPI, 1_000_000, 1_000_000) == pytest.approx(0.53)
    assert merged["hermes-4-405b"].info.cost_usd(APIPIE, 1_000_000, 1_000_000) == pytest.approx(4.0)
    # deprecation and the rest of the catalog facts survive the merge
    mixtral = merged["nous-hermes-2-mixtral-8x7b-dpo"]
    assert mixtral.listed_on == {APIPIE}
    assert mixtral.info.gateway_ids[APIPIE] == "Nous-Hermes-2-Mixtral-8x7B-DPO"  # the listed id works today
    assert mixtral.info.deprecation(AIMLAPI) is not None
    assert mixtral.info.prompt_format == "chatml"


def test_merge_describes_a_model_only_the_live_list_knows() -> None:
    info = merged_live()["deephermes-3-llama-3-8b-preview"].info
    assert info.gateway_ids == {APIPIE: "deephermes-3-llama-3-8b-preview"}
    assert info.context_window == 131072
    assert info.max_output_tokens == 0  # unknown
    assert info.prompt_format == "unknown"
    assert info.reasoning is True
    assert info.cost_usd(APIPIE, 10, 10) == 0.0


# --- fetching ---------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Server:
    """A Models route: answers 200 with an ETag, or 304 when If-None-Match matches; records each request."""

    def __init__(self, payload: Any, etag: str = 'W/"abc"') -> None:
        self.payload = payload
        self.etag = etag
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("if-none-match") == self.etag:
            return httpx.Response(304, headers={"etag": self.etag})
        return httpx.Response(200, json=self.payload, headers={"etag": self.etag})


def run_fetch(
    mode: str, gateway: str, handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any
) -> list[LiveModel]:
    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport) as client:
        return fetch_models(gateway, http_client=client, **kwargs)


MODES = pytest.mark.parametrize("mode", ["sync"])
"""The one driver (issue 12 removed the unused async twin); kept as a parameter so each test names it."""


@MODES
def test_fetch_caches_then_revalidates_with_the_etag(mode: str) -> None:
    server = Server(load("aimlapi_models.json"))
    clock = FakeClock()
    cache = ModelsCache(ttl=300, clock=clock)
    first = run_fetch(mode, AIMLAPI, server, cache=cache, base_url="https://models.test/v1")
    assert [m.id for m in first][:1] == ["nousresearch/hermes-4-70b"]
    assert str(server.requests[0].url) == "https://models.test/v1/models?include=all"
    assert "if-none-match" not in server.requests[0].headers

    clock.now += 299  # fresh: no request at all
    assert run_fetch(mode, AIMLAPI, server, cache=cache, base_url="https://models.test/v1") == first
    assert len(server.requests) == 1

    clock.now += 2  # stale: revalidate, 304 → the cached list
    again = run_fetch(mode, AIMLAPI, server, cache=cache, base_url="https://models.test/v1")
    assert again == first
    assert len(server.requests) == 2
    assert server.requests[1].headers["if-none-match"] == 'W/"abc"'

    clock.now += 10  # the 304 made the entry fresh again
    run_fetch(mode, AIMLAPI, server, cache=cache, base_url="https://models.test/v1")
    assert len(server.requests) == 2
    run_fetch(mode, AIMLAPI, server, cache=cache, base_url="https://models.test/v1", refresh=True)
    assert len(server.requests) == 3


@MODES
def test_fetch_replaces_the_cache_when_the_list_changed(mode: str) -> None:
    server = Server(load("apipie_models.json"), etag='"v1"')
    clock = FakeClock()
    cache = ModelsCache(ttl=60, clock=clock)
    assert len(run_fetch(mode, APIPIE, server, cache=cache)) == 7
    assert str(server.requests[0].url) == "https://apipie.ai/v1/models"
    server.payload, server.etag = {"object": "list", "data": [{"id": "hermes-4-70b"}]}, '"v2"'
    clock.now += 61
    assert [m.id for m in run_fetch(mode, APIPIE, server, cache=cache)] == ["hermes-4-70b"]
    assert server.requests[1].headers["if-none-match"] == '"v1"'


@MODES
def test_fetch_without_etag_never_sends_if_none_match(mode: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    cache = ModelsCache(ttl=0)
    run_fetch(mode, APIPIE, handler, cache=cache)
    run_fetch(mode, APIPIE, handler, cache=cache)
    assert len(seen) == 2
    assert all("if-none-match" not in r.headers for r in seen)


def test_env_base_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIPIE_BASE_URL", "http://127.0.0.1:8000/v1/")
    monkeypatch.setenv("AIMLAPI_BASE_URL", "http://localhost:9000/v1")
    assert models_url(APIPIE) == "http://127.0.0.1:8000/v1/models"
    assert models_url(AIMLAPI) == "http://localhost:9000/v1/models?include=all"
    assert models_url(APIPIE, "https://other.test/v1") == "https://other.test/v1/models"
    monkeypatch.delenv("AIMLAPI_BASE_URL")
    assert models_url(AIMLAPI) == "https://api.aimlapi.com/v1/models?include=all"
    with pytest.raises(ValueError, match="apipie"):
        models_url("openai")


@MODES
def test_fetch_errors_are_gateway_errors(mode: str) -> None:
    def server_error(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "upstream unavailable"}})

    def not_json(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def bare_304(request: httpx.Request) -> httpx.Response:
        return httpx.Response(304)

    with pytest.raises(ServerError, match="upstream unavailable") as info:
        run_fetch(mode, APIPIE, server_error, cache=ModelsCache())
    assert info.value.gateway == APIPIE
    with pytest.raises(InvalidResponseError, match="unreadable"):
        run_fetch(mode, AIMLAPI, not_json, cache=ModelsCache())
    with pytest.raises(APIConnectionError, match="connection refused"):
        run_fetch(mode, AIMLAPI, refused, cache=ModelsCache())
    with pytest.raises(GatewayError):
        run_fetch(mode, APIPIE, bare_304, cache=ModelsCache())


def test_a_failed_fetch_keeps_the_cached_list() -> None:
    clock = FakeClock()
    cache = ModelsCache(ttl=10, clock=clock)
    good = run_fetch("sync", APIPIE, Server(load("apipie_models.json")), cache=cache)
    clock.now += 11
    with pytest.raises(ServerError):
        run_fetch("sync", APIPIE, lambda r: httpx.Response(500), cache=cache)
    assert run_fetch("sync", APIPIE, Server(load("apipie_models.json")), cache=cache) == good
