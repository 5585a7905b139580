"""Checking what a user configures, once, with one wording that the client and both adapters share.

Everything here is pure and runs before any I/O: gateway names (defined once, in `_gateways.DIALECTS`),
`api_key` / `base_url` given as one value or a mapping per gateway, API keys (surrounding whitespace
stripped; control or non-ASCII characters refused with `InvalidAPIKeyError`, which names where the key came
from and never echoes it), base URLs (http(s), no plain http to a remote host without the opt-in), sampling
ranges, and per-call options (an unknown one is a `TypeError` suggesting the closest known name).

`resolve_routes` turns the constructor arguments into `Route`s: what `GatewayClient` is made of, and what
adapters call at construction time to refuse bad settings before any request.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from ._constants import LOOPBACK_HOSTNAMES
from ._exceptions import InvalidAPIKeyError
from ._gateways import DIALECTS, Dialect

GATEWAY_NAMES: tuple[str, ...] = tuple(DIALECTS)
"""Every gateway name the package knows, in the order `DIALECTS` defines them."""

KeyArg = str | SecretStr | None
"""An `api_key` for one gateway: a string or `SecretStr`; None reads the gateway's environment variable."""


@dataclass(frozen=True, slots=True)
class Route:
    """One gateway a request may go to: its dialect, resolved base URL and the key given for it (if any)."""

    dialect: Dialect
    base_url: str
    api_key: SecretStr | None = field(default=None, repr=False)

    @property
    def gateway(self) -> str:
        return self.dialect.name


# --- gateway names --------------------------------------------------------------------------------------


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_gateway_name(name: Any) -> str:
    """`name` if it is a known gateway; ValueError naming the choices (and the closest one) otherwise."""
    if isinstance(name, str) and name in DIALECTS:
        return name
    hint = _suggest(name, GATEWAY_NAMES) if isinstance(name, str) else ""
    raise ValueError(f"unknown gateway {name!r}{hint}: choose from {', '.join(map(repr, GATEWAY_NAMES))}")


def split_gateways(gateway: str | Sequence[str]) -> tuple[str, ...]:
    """`"apipie"`, `"apipie,aimlapi"` or `["apipie", "aimlapi"]` → the names, checked, in order."""
    if isinstance(gateway, str):
        names = [g.strip() for g in gateway.split(",")]
    elif isinstance(gateway, Sequence):
        names = [g.strip() if isinstance(g, str) else g for g in gateway]
    else:
        raise ValueError(f"gateway must be a name or a list of names, not {type(gateway).__name__}")
    names = [g for g in names if g != ""]
    if not names:
        raise ValueError("gateway must name at least one gateway, e.g. 'apipie' or ['apipie', 'aimlapi']")
    checked = tuple(check_gateway_name(g) for g in names)
    if len(set(checked)) != len(checked):
        raise ValueError(f"gateway lists a gateway twice: {list(checked)}")
    return checked


def gateway_field(value: Any) -> Any:
    """An adapter's `gateway=` field, checked with `split_gateways`' wording: one name stays a string, a list
    or a comma-separated string becomes the list of names. Anything else is left for the field's own type
    error."""
    if isinstance(value, (str, list, tuple)):
        names = list(split_gateways(value))
        return names[0] if isinstance(value, str) and len(names) == 1 else names
    return value


def per_gateway(value: Any, names: Sequence[str], what: str) -> dict[str, Any]:
    """Spread `api_key` / `base_url` over the gateways: a mapping per gateway, or one value for one gateway.

    One value for several gateways is refused: one gateway's key would be sent to the others.
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in set(value) - set(names))
        if unknown:
            raise ValueError(f"{what} names gateways that are not in gateway={list(names)}: {unknown}")
        return {name: value[name] for name in names if value.get(name) is not None}
    if len(names) == 1:
        return {names[0]: value}
    raise ValueError(
        f"with several gateways pass {what}= as a mapping per gateway, e.g. {what}={{'apipie': ..., "
        f"'aimlapi': ...}} (or leave it None to use each gateway's environment variable)"
    )


# --- keys -----------------------------------------------------------------------------------------------


def clean_key(value: str | SecretStr | None, *, source: str, gateway: str | None = None) -> SecretStr | None:
    """The key with surrounding whitespace stripped; None when empty.

    A key with control characters (an inner newline, a tab) or non-ASCII characters cannot be sent in an HTTP
    header: `InvalidAPIKeyError` says where it came from (`source`) and what is wrong, never the key itself.
    """
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        raise InvalidAPIKeyError(f"the API key from {source} must be a string", gateway=gateway)
    key = raw.strip()
    if not key:
        return None
    if not key.isascii():
        problem = "non-ASCII characters"
    elif not key.isprintable():
        problem = "control characters (a newline or tab inside it?)"
    else:
        return SecretStr(key) if key != raw or not isinstance(value, SecretStr) else value
    raise InvalidAPIKeyError(
        f"the API key from {source} contains {problem}, which cannot be sent in an HTTP header; "
        "copy the key again from the gateway's dashboard",
        gateway=gateway,
    )


# --- base URLs ------------------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) and localhost."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_HOSTNAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def check_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    """The base URL without its trailing slash; ValueError for a non-http(s) URL, or plain http to a host that
    is not loopback without the explicit opt-in."""
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError):
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
    if url.scheme == "http" and not allow_insecure_http and not is_loopback_host(url.host):
        raise ValueError(
            f"refusing plain http:// to {url.host}: the API key would travel unencrypted. Use https:// "
            "(plain http is allowed to loopback hosts), or pass allow_insecure_http=True on a trusted network"
        )
    return base_url.rstrip("/")


def resolve_routes(
    gateway: str | Sequence[str],
    *,
    api_key: KeyArg | Mapping[str, KeyArg] = None,
    base_url: str | Mapping[str, str | None] | None = None,
    allow_insecure_http: bool = False,
) -> tuple[Route, ...]:
    """The checked routes for these arguments: names, keys, base URLs ("openai" needs one)."""
    names = split_gateways(gateway)
    keys = per_gateway(api_key, names, "api_key")
    urls = per_gateway(base_url, names, "base_url")
    routes: list[Route] = []
    for name in names:
        dialect = DIALECTS[name]
        url = urls.get(name) or dialect.env_base_url() or dialect.default_base_url
        if not url:
            raise ValueError(
                f"gateway={name!r} needs base_url= (or {dialect.base_url_env}), "
                "e.g. 'http://localhost:11434/v1' for Ollama or 'http://localhost:8000/v1' for vLLM"
            )
        key = clean_key(keys.get(name), source=f"api_key= for {name}", gateway=name)
        routes.append(Route(dialect, check_base_url(url, allow_insecure_http=allow_insecure_http), key))
    return tuple(routes)


def env_key(dialect: Dialect) -> SecretStr | None:
    """The gateway's key from its environment variables (the first non-empty one), checked as an argument
    is."""
    for name in dialect.api_key_envs:
        key = clean_key(os.environ.get(name), source=f"the environment variable {name}", gateway=dialect.name)
        if key is not None:
            return key
    return None


# --- sampling ranges and per-call options ---------------------------------------------------------------

_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    # name: (low, high, low is exclusive)
    "temperature": (0.0, 2.0, False),
    "top_p": (0.0, 1.0, True),
    "presence_penalty": (-2.0, 2.0, False),
    "frequency_penalty": (-2.0, 2.0, False),
    "max_tokens": (1, None, False),
    "max_completion_tokens": (1, None, False),
    "n": (1, None, False),
    "top_logprobs": (0, 20, False),
    "timeout": (0.0, None, True),
    "max_retries": (0, None, False),
}
_INTEGERS = frozenset({"max_tokens", "max_completion_tokens", "n", "top_logprobs", "max_retries", "seed"})


def check_options(options: Mapping[str, Any]) -> None:
    """ValueError when a sampling or client option is out of range (None means "not given": skipped)."""
    for name, value in options.items():
        if value is None or (name not in _RANGES and name not in _INTEGERS):
            continue
        if name in _INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if name not in _RANGES:
            continue
        low, high, exclusive = _RANGES[name]
        too_low = low is not None and (value <= low if exclusive else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            raise ValueError(f"{name}={value!r} is out of range: {_range_text(low, high, exclusive)}")


def _range_text(low: float | None, high: float | None, exclusive: bool) -> str:
    if high is None:
        return f"it must be {'>' if exclusive else '>='} {low}"
    return (
        f"it must be {'above' if exclusive else 'from'} {low} {'and at most' if exclusive else 'to'} {high}"
    )


def check_call_options(
    options: Mapping[str, Any], known: Sequence[str] | frozenset[str], *, where: str
) -> None:
    """TypeError naming the first unknown per-call option and the closest known one; then the ranges.

    Gateway extensions have explicit routes (`extra_body=`, and the adapters' `model_kwargs` /
    `additional_kwargs`), so a misspelt option never reaches a gateway.
    """
    for name in options:
        if name not in known:
            hint = _suggest(name, sorted(known))
            raise TypeError(
                f"{where} got an unexpected keyword argument {name!r}{hint}; gateway extensions go in "
                "extra_body={...}"
            )
    check_options(options)
