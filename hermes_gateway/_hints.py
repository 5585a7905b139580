"""What to do next, appended to a 400/404 error's message: the one place that explains them. Pure.

A 404 from a chat endpoint means one of three different things, and the gateway's own words rarely say which:
- the URL is wrong: `Cannot POST /chat/completions` (Express), `404 page not found` (Go), `{"detail":
  "Not Found"}` (FastAPI) name a route, not a model. OpenAI-compatible servers serve chat under `/v1`, so a
  `base_url` without it is the usual cause: the hint names the URL that was tried and says to check base_url;
- the model is not on this gateway: the catalog knows it, but only on another gateway (or only on local
  servers): the hint says where it is served and what to pass;
- the model name is misspelt: the closest catalog names (served on this gateway first) are suggested.
A retired model (400 or 404) gets the catalog's deprecation sentence with its replacement.

For `gateway="openai"` (vLLM, Ollama, llama.cpp, LM Studio) catalog names are sent unchanged, because each
server names a model however it was started; a 404 there lists the names the catalog knows for that model
(the Hugging Face id vLLM serves, the Ollama tags).
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._catalog import BUILTIN_MODELS, CATALOG_GATEWAYS, OPENAI, _norm, deprecation_message

if TYPE_CHECKING:
    from ._catalog import ModelInfo

ROUTE_NOT_FOUND = re.compile(
    r"Cannot (?:POST|GET|PUT) /|404 page not found|\"detail\"\s*:\s*\"Not Found\"|^\s*Not Found\s*$",
    re.IGNORECASE,
)
"""Bodies that say the path does not exist (not the model)."""
SUGGESTIONS = 3
SIMILARITY = 0.6
"""`difflib` ratio a catalog name needs to be suggested for a misspelt one."""


def error_hint(
    *,
    status: int,
    text: str,
    requested_model: str,
    info: ModelInfo | None,
    gateway: str,
    base_url: str,
) -> str | None:
    """A sentence (or None) telling the user what to do about a 400/404 from `gateway`."""
    if status not in (400, 404):
        return None
    if status == 404 and ROUTE_NOT_FOUND.search(text):
        return route_hint(base_url)
    if info is not None:
        retired = deprecation_message(info, gateway)
        if retired is not None:
            return retired
    if status != 404:
        return None
    if info is None:
        return misspelt_hint(requested_model, gateway)
    if gateway == OPENAI:
        return local_name_hint(info, requested_model)
    if gateway not in info.gateway_ids:
        return elsewhere_hint(info, gateway)
    return None


def route_hint(base_url: str) -> str:
    url = f"{base_url.rstrip('/')}/chat/completions"
    path = urlsplit(base_url).path.rstrip("/")
    advice = f"the server has no {url}: check base_url"
    if not path.endswith("/v1"):
        advice += (
            f" — OpenAI-compatible servers serve chat under /v1, so base_url usually ends in /v1 "
            f"(e.g. {base_url.rstrip('/')}/v1)"
        )
    return advice


def _served_on(info: ModelInfo) -> list[str]:
    return [g for g in info.gateways if info.deprecation(g) is None]


def elsewhere_hint(info: ModelInfo, gateway: str) -> str:
    served = _served_on(info)
    if served:
        where = " or ".join(f"gateway={g!r} (model={info.gateway_ids[g]!r})" for g in served)
        return f"{info.name} is not served on {gateway}; it is on {where}"
    local = f" (e.g. vLLM: model={info.hf_id!r})" if info.hf_id else ""
    return (
        f"{info.name} is not served on {gateway} nor on any catalog gateway; run it on a local "
        f"OpenAI-compatible server with gateway='openai'{local}"
    )


def local_name_hint(info: ModelInfo, requested: str) -> str | None:
    names = [n for n in (info.hf_id, *info.aliases) if n and n != requested]
    if not names:
        return None
    listed = ", ".join(repr(n) for n in names)
    return (
        f"gateway='openai' sends the model name unchanged and local servers name models as they were "
        f"started: try {listed} (vLLM serves the Hugging Face id, Ollama the tag), or ask the server's "
        "/v1/models"
    )


def misspelt_hint(requested: str, gateway: str) -> str | None:
    """The closest catalog names; those served on `gateway` first, the others saying where they are."""
    by_key: dict[str, ModelInfo] = {}
    for info in BUILTIN_MODELS:
        for name in (info.name, *info.gateway_ids.values(), *info.aliases):
            by_key.setdefault(_norm(name), info)
    close = difflib.get_close_matches(_norm(requested), list(by_key), n=SUGGESTIONS * 3, cutoff=SIMILARITY)
    found: list[ModelInfo] = []
    for key in close:
        if by_key[key] not in found:
            found.append(by_key[key])
    if not found:
        return None
    here = [i for i in found if gateway in _served_on(i) or gateway not in CATALOG_GATEWAYS]
    there = [i for i in found if i not in here]
    options = [_name_on(i, gateway) for i in here]
    options += [f"{i.name!r} ({_where(i)})" for i in there]
    return f"no Hermes model is called {requested!r}: did you mean {', '.join(options[:SUGGESTIONS])}?"


def _name_on(info: ModelInfo, gateway: str) -> str:
    model_id = info.gateway_ids.get(gateway)
    return repr(info.name) if model_id is None or model_id == info.name else f"{info.name!r} ({model_id})"


def _where(info: ModelInfo) -> str:
    served = _served_on(info)
    if served:
        return "on " + " and ".join(served)
    return "local servers only"
