"""Live model lists from both gateways' Models routes, normalised and merged over the built-in catalog.

Flow: `fetch_models` (a thin driver: one GET; the CLI and `doctor` are sync) → `_accept` (pure: status,
ETag and cache handling) → `parse_apipie_models` / `parse_aimlapi_models` (pure: one raw entry → one
`LiveModel`) → `merge_live` (pure: live facts laid over the matching `ModelInfo`).

The two routes differ (see gateways.md):
- APIpie `GET /v1/models`: flat records, prices as numeric STRINGS whose unit (per token or per million)
  is unconfirmed, flags as 0/1 numbers, `max_tokens` (context) and `max_response_tokens`, noisy values (a
  negative price was seen). Entries of the older (2024 docs) shape have no `id`: the sendable id is then
  `model` (`route` is the provider-qualified route, not sendable). `/v1/models/detailed` adds top-level
  `input_modalities` / `output_modalities` lists and `pricing.confirmed.{input_cost,output_cost}` per 1M
  tokens or, when `confirmed` is empty, `pricing.advertised.{input,output}_cost_per_token` per token
  (gateways.md Corrections: charmbracelet/catwalk `cmd/apipie`, corsairdev/corsair `packages/apipie`).
- AI/ML API `GET /v1/models?include=all`: `{"object": "list", "data": [{id, aliases, type, info{contextLength,
  maxTokens | outputMax}, features | capabilities, modalities, pricing}]}` (older `/models` is a bare list),
  with an ETag answered by 304 on If-None-Match. Price units, live: `{"name": "token", "content": "text",
  "origin": "provided" | "generated" | "cached", "price": 0.143, "per": 1000000}` (the direction is
  `origin`); documented older shape: `"measure": "input" | "output"` (gateways.md Corrections,
  aimlapi/models.dev-aimlapi `sync/providers/aimlapi.ts`). `price / per` is USD per token.

Every value that does not make sense (negative, zero limits, non-numeric) becomes None ("unknown"): a live
list never makes up a fact, it only overrides the catalog where it says something.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import httpx

from ._catalog import AIMLAPI, APIPIE, BUILTIN_MODELS, ModelInfo, Price, lookup
from ._constants import MODELS_CACHE_TTL, MODELS_TIMEOUT
from ._error_bodies import error_from_response
from ._exceptions import InvalidResponseError, map_httpx_errors
from ._gateways import get_dialect

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

_PER_TOKEN_BELOW = 0.001
"""APIpie price strings below this are read as USD per token (x 1e6); at or above it, per 1M tokens.

Why: the unit is unconfirmed. $0.001 per token would be $1000 per 1M, far above any Hermes price, and
$0.001 per 1M would be free in practice, so the two readings cannot be confused for these models.
"""


@dataclass(frozen=True, slots=True)
class LiveModel:
    """One entry of a gateway's Models route, normalised; None means the route did not say (or said junk)."""

    gateway: str
    id: str
    """The id to send as `model` on that gateway."""
    name: str = ""
    provider: str | None = None
    """The upstream provider (APIpie lists one entry per provider)."""
    context_window: int | None = None
    max_output_tokens: int | None = None
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    tools: bool | None = None
    vision: bool | None = None
    reasoning: bool | None = None
    available: bool | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    kind: str = ""
    """What the route calls the model, lower-cased (APIpie `type`, e.g. `llm`, `embedding`; AI/ML API
    `type`, e.g. `openai/chat-completions`): `is_embedding` reads it."""

    @property
    def price(self) -> Price | None:
        if self.input_per_mtok is None or self.output_per_mtok is None:
            return None
        return Price(self.input_per_mtok, self.output_per_mtok)


# --- value cleaning ---------------------------------------------------------------------------------------


def _number(value: object) -> float | None:
    """A finite, non-negative number from a number or numeric string; anything else is unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _limit(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number >= 1 else None


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
        return value.strip().lower() in ("1", "true")
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _entries(payload: object) -> list[Mapping[str, Any]]:
    if isinstance(payload, dict):
        payload = payload.get("data")
    if not isinstance(payload, list):
        raise ValueError("the Models route answered something other than a list of models")
    return [entry for entry in payload if isinstance(entry, dict)]


# --- APIpie -----------------------------------------------------------------------------------------------


def _apipie_price(value: object) -> float | None:
    number = _number(value)
    if number is None:
        return None
    return number * 1_000_000 if 0 < number < _PER_TOKEN_BELOW else number


def _per_token(value: object) -> float | None:
    number = _number(value)
    return None if number is None else number * 1_000_000


def _apipie_prices(entry: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """USD per 1M tokens: `pricing.confirmed` (per 1M, stated), else `pricing.advertised` (per token,
    stated), else the flat `input_cost` / `req_price` strings (unit unconfirmed: see `_PER_TOKEN_BELOW`)."""
    pricing = entry.get("pricing")
    if isinstance(pricing, dict):
        confirmed = pricing.get("confirmed")
        if isinstance(confirmed, dict) and confirmed:
            return _number(confirmed.get("input_cost")), _number(confirmed.get("output_cost"))
        advertised = pricing.get("advertised")
        if isinstance(advertised, dict) and advertised:
            return (
                _per_token(advertised.get("input_cost_per_token")),
                _per_token(advertised.get("output_cost_per_token")),
            )
    return (
        _apipie_price(entry.get("input_cost", entry.get("req_price"))),
        _apipie_price(entry.get("output_cost", entry.get("res_price"))),
    )


def _apipie_inputs(entry: Mapping[str, Any]) -> list[str]:
    """Input modalities: top-level `input_modalities` (live /models/detailed), else `modalities.input`."""
    inputs = _strings(entry.get("input_modalities"))
    modalities = entry.get("modalities")
    if not inputs and isinstance(modalities, dict):
        inputs = _strings(modalities.get("input"))
    return [m.lower() for m in inputs]


def _apipie_entry(entry: Mapping[str, Any]) -> LiveModel | None:
    # `route` is never the sendable id: in the old list shape it is the provider-qualified route.
    model_id = _text(entry.get("id")) or _text(entry.get("model"))
    if not model_id:
        return None
    price_in, price_out = _apipie_prices(entry)
    kinds = {_text(entry.get("type")).lower(), _text(entry.get("subtype")).lower()}
    inputs = _apipie_inputs(entry)
    flags = [f for f in (_flag(entry.get("enabled")), _flag(entry.get("available"))) if f is not None]
    return LiveModel(
        gateway=APIPIE,
        id=model_id,
        name=(_text(entry.get("model")) if entry.get("id") else _text(entry.get("route"))) or model_id,
        provider=_text(entry.get("provider")) or None,
        context_window=_limit(entry.get("max_tokens")),
        max_output_tokens=_limit(entry.get("max_response_tokens")),
        input_per_mtok=price_in,
        output_per_mtok=price_out,
        vision=True if ({"vision", "multimodal"} & kinds or "image" in inputs) else None,
        reasoning=True if "reasoning" in kinds else None,
        available=all(flags) if flags else None,
        description=_text(entry.get("description")),
        kind=" ".join(k for k in (_text(entry.get("type")), _text(entry.get("subtype"))) if k).lower(),
    )


def parse_apipie_models(payload: object) -> list[LiveModel]:
    """APIpie `/v1/models` (or `/v1/models/detailed`) JSON → one `LiveModel` per entry with an id."""
    return [m for entry in _entries(payload) if (m := _apipie_entry(entry)) is not None]


# --- AI/ML API --------------------------------------------------------------------------------------------


_AIMLAPI_DIRECTIONS: Mapping[str, str | None] = {
    "provided": "in",  # live `origin`: the prompt
    "generated": "out",  # live `origin`: the completion
    "cached": None,  # cached input: a third rate, not the input price
    "input": "in",  # documented `measure`
    "output": "out",
}


def _aimlapi_side(unit: Mapping[str, Any]) -> str | None:
    """ "in", "out" or None (not a plain text-token rate, e.g. cached input or image tokens)."""
    content = _text(unit.get("content")).lower()
    if content and content != "text":
        return None
    for key in ("origin", "measure"):
        direction = _text(unit.get(key)).lower()
        if direction:
            return _AIMLAPI_DIRECTIONS.get(direction)
    # Neither field: a unit named after its direction (`input_token`, `completion`), as some pages show.
    label = " ".join(_text(unit.get(k)).lower() for k in ("unit", "name", "type", "direction"))
    if "cache" in label:
        return None
    if "output" in label or "completion" in label:
        return "out"
    return "in" if ("input" in label or "prompt" in label) else None


def _aimlapi_prices(pricing: object) -> tuple[float | None, float | None]:
    """USD per 1M text tokens (input, output) from a `pricing` block (or a bare list of units).

    Only `kind: fixed` (or no kind) quotes rates ahead of the request. `price` is USD for `per` units (docs:
    "always read per together with price"); `per` missing means per one unit (a token).
    """
    if isinstance(pricing, list):
        pricing = {"units": pricing}
    if not isinstance(pricing, dict) or pricing.get("kind", "fixed") != "fixed":
        return None, None
    rates: dict[str, float | None] = {"in": None, "out": None}
    units = pricing.get("units")
    for unit in units if isinstance(units, list) else []:
        if not isinstance(unit, dict):
            continue
        side = _aimlapi_side(unit)
        price = _number(unit.get("price"))
        per = _number(unit.get("per")) if "per" in unit else 1.0
        if side and price is not None and per:
            rates[side] = price / per * 1_000_000
    return rates["in"], rates["out"]


def _aimlapi_entry(entry: Mapping[str, Any]) -> LiveModel | None:
    model_id = _text(entry.get("id"))
    if not model_id:
        return None
    raw_info = entry.get("info")
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    features = [f.lower() for f in _strings(entry.get("features"))]
    capabilities = [c.lower() for c in _strings(entry.get("capabilities"))]
    declared = features + capabilities
    tools = any(d == "tools" or d.endswith((".function", ".tools")) for d in declared)
    modalities = entry.get("modalities")
    inputs = [m.lower() for m in _strings(modalities.get("input"))] if isinstance(modalities, dict) else []
    vision = "image" in inputs or any(d == "vision" or d.endswith(".vision") for d in declared)
    price_in, price_out = _aimlapi_prices(entry.get("pricing"))
    return LiveModel(
        gateway=AIMLAPI,
        id=model_id,
        name=_text(info.get("name")) or model_id,
        context_window=_limit(info.get("contextLength")),
        max_output_tokens=_limit(info.get("outputMax", info.get("maxTokens"))),
        input_per_mtok=price_in,
        output_per_mtok=price_out,
        tools=tools if declared else None,  # only a declared list can say "no"
        vision=vision if (declared or inputs) else None,
        reasoning=True if any(d == "reasoning" or d.endswith(".reasoning") for d in declared) else None,
        aliases=tuple(_strings(entry.get("aliases"))),
        description=_text(info.get("description")),
        kind=" ".join([_text(entry.get("type")), *_strings(entry.get("tags"))]).lower(),
    )


def parse_aimlapi_models(payload: object) -> list[LiveModel]:
    """AI/ML API `/v1/models` JSON (`{"object": "list", "data": [...]}` or a bare list) → `LiveModel`s."""
    return [m for entry in _entries(payload) if (m := _aimlapi_entry(entry)) is not None]


PARSERS: Mapping[str, Callable[[object], list[LiveModel]]] = {
    APIPIE: parse_apipie_models,
    AIMLAPI: parse_aimlapi_models,
}


def is_hermes(entry: LiveModel | Mapping[str, Any]) -> bool:
    """Whether a live entry (parsed, or a raw dict of either shape) is a Hermes model."""
    if isinstance(entry, LiveModel):
        names = [entry.id, entry.name, *entry.aliases]
    else:
        info = entry.get("info")
        names = [_text(entry.get(k)) for k in ("id", "model", "route", "name")] + _strings(
            entry.get("aliases")
        )
        names.append(_text(info.get("name")) if isinstance(info, dict) else "")
    return any("hermes" in n.lower() for n in names)


# --- merging over the catalog -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergedModel:
    """A catalog entry with the live facts laid over it, and the gateways whose live list named it."""

    info: ModelInfo
    listed_on: frozenset[str] = frozenset()
    providers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Upstream providers per gateway as listed live (APIpie has one entry per provider)."""


def _catalog_match(live: LiveModel) -> ModelInfo | None:
    for name in (live.id, *live.aliases):
        if (info := lookup(name)) is not None:
            return info
    return None


def _merge_group(base: ModelInfo | None, group: list[LiveModel]) -> MergedModel:
    first = group[0]
    if base is None:  # a model only the live list knows: 0 means an unknown limit
        base = ModelInfo(
            name=first.id.lower(),
            gateway_ids={},
            context_window=0,
            max_output_tokens=0,
            prompt_format="unknown",
            vision=any(m.vision for m in group),
            reasoning=any(m.reasoning for m in group),
            description=first.description,
        )
    gateway_ids = dict(base.gateway_ids)
    prices = dict(base.prices)
    native = set(base.native_tools)
    declared = set(base.declared_tools)
    providers: dict[str, list[str]] = {}
    for gateway in dict.fromkeys(m.gateway for m in group):
        mine = [m for m in group if m.gateway == gateway]
        if gateway_ids.get(gateway) not in {m.id for m in mine}:
            gateway_ids[gateway] = mine[0].id  # the catalog's id is not listed: the listed one works today
        price = next((p for m in mine if (p := m.price) is not None), None)
        if price is not None:
            prices[gateway] = price
        tools = next((m.tools for m in mine if m.tools is not None), None)
        if tools:  # a list that declares tools is a claim, not a confirmation: auto mode does not rely on it
            declared.add(gateway)
        elif tools is not None:
            native.discard(gateway)
            declared.discard(gateway)
        providers[gateway] = list(dict.fromkeys(m.provider for m in mine if m.provider))
    contexts = [m.context_window for m in group if m.context_window]
    outputs = [m.max_output_tokens for m in group if m.max_output_tokens]
    info = replace(
        base,
        gateway_ids=gateway_ids,
        prices=prices,
        native_tools=frozenset(native),
        declared_tools=frozenset(declared),
        # The smallest limit any live list reports: the safe number for a context guard.
        context_window=min(contexts) if contexts else base.context_window,
        max_output_tokens=min(outputs) if outputs else base.max_output_tokens,
    )
    return MergedModel(
        info=info,
        listed_on=frozenset(m.gateway for m in group),
        providers={g: tuple(p) for g, p in providers.items() if p},
    )


def merge_live(
    live: Iterable[LiveModel], *, catalog: Iterable[ModelInfo] = BUILTIN_MODELS
) -> list[MergedModel]:
    """Catalog entries (in catalog order) with live facts merged in, then models only the live lists know.

    Catalog entries no live list named are kept, with `listed_on` empty.
    """
    catalog = tuple(catalog)
    in_catalog = {info.name for info in catalog}
    known: dict[str, list[LiveModel]] = {}
    unknown: dict[str, list[LiveModel]] = {}
    bases: dict[str, ModelInfo] = {}
    for model in live:
        info = _catalog_match(model)
        if info is None:
            unknown.setdefault(model.id.lower(), []).append(model)
        else:
            bases[info.name] = info
            known.setdefault(info.name, []).append(model)
    merged = [
        _merge_group(info, known[info.name]) if info.name in known else MergedModel(info=info)
        for info in catalog
    ]
    merged += [_merge_group(bases[name], group) for name, group in known.items() if name not in in_catalog]
    merged += [_merge_group(None, group) for group in unknown.values()]
    return merged


# --- fetching ---------------------------------------------------------------------------------------------


def models_url(gateway: str, base_url: str | None = None) -> str:
    """`{base_url}/models` (AI/ML API with `?include=all`); base URL: argument, env var, then the default."""
    if gateway not in PARSERS:
        raise ValueError(f"live model lists exist for 'apipie' and 'aimlapi', not {gateway!r}")
    dialect = get_dialect(gateway)
    base = base_url or dialect.env_base_url() or dialect.default_base_url or ""
    url = base.rstrip("/") + "/models"
    return url + "?include=all" if gateway == AIMLAPI else url


@dataclass(slots=True)
class _Cached:
    etag: str | None
    stored_at: float
    models: tuple[LiveModel, ...]


class ModelsCache:
    """In-memory cache of fetched lists per URL: fresh for `ttl` seconds, then revalidated with the ETag."""

    def __init__(self, ttl: float = MODELS_CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Cached] = {}

    def fresh(self, url: str) -> list[LiveModel] | None:
        entry = self._entries.get(url)
        if entry is None or self._clock() - entry.stored_at >= self.ttl:
            return None
        return list(entry.models)

    def request_headers(self, url: str) -> dict[str, str]:
        entry = self._entries.get(url)
        headers = {"Accept": "application/json"}
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        return headers

    def store(self, url: str, etag: str | None, models: Iterable[LiveModel]) -> list[LiveModel]:
        self._entries[url] = _Cached(etag, self._clock(), tuple(models))
        return list(self._entries[url].models)

    def not_modified(self, url: str) -> list[LiveModel] | None:
        """A 304: the cached list is current again; None if there is nothing cached to reuse."""
        entry = self._entries.get(url)
        if entry is None:
            return None
        entry.stored_at = self._clock()
        return list(entry.models)

    def clear(self) -> None:
        self._entries.clear()


_CACHE = ModelsCache()


def _accept(gateway: str, url: str, response: httpx.Response, cache: ModelsCache) -> list[LiveModel]:
    """Turn the one response into models: 304 → the cached list, 2xx → parsed and cached, else an error."""
    status = response.status_code
    if status == 304 and (cached := cache.not_modified(url)) is not None:
        return cached
    if not 200 <= status < 300:
        raise error_from_response(status, response.headers, response.content, gateway=gateway)
    try:
        models = PARSERS[gateway](response.json())
    except ValueError as exc:  # not JSON, or JSON that is not a model list
        raise InvalidResponseError(
            f"the {gateway} model list at {url} is unreadable: {exc}", gateway=gateway, status_code=status
        ) from exc
    return cache.store(url, response.headers.get("etag"), models)


def fetch_models(
    gateway: str,
    *,
    base_url: str | None = None,
    http_client: httpx.Client | None = None,
    timeout: float = MODELS_TIMEOUT,
    cache: ModelsCache | None = None,
    refresh: bool = False,
) -> list[LiveModel]:
    """GET the gateway's model list (no key needed); reuses a fresh cached copy, else revalidates by ETag.

    `refresh=True` skips the freshness check (still sends If-None-Match). Raises `GatewayError` subclasses:
    `APIConnectionError` / `APITimeoutError`, the status class for a non-2xx answer, `InvalidResponseError`
    for a body that is not a model list.
    """
    url, cache = models_url(gateway, base_url), _CACHE if cache is None else cache
    if not refresh and (hit := cache.fresh(url)) is not None:
        return hit
    client = http_client if http_client is not None else httpx.Client(timeout=timeout)
    try:
        with map_httpx_errors(gateway):
            response = client.get(url, headers=cache.request_headers(url), timeout=timeout)
    finally:
        if http_client is None:
            client.close()
    return _accept(gateway, url, response, cache)


def clear_cache() -> None:
    """Forget every cached list (the next fetch asks without an ETag)."""
    _CACHE.clear()
