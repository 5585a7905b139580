"""The HTTP client a LangChain model object holds: built on first use, reused, rebuilt when connection
settings change, never copied, pickled or serialised. Shared by `ChatHermes` and `GatewayEmbeddings`, which
hold the same connection fields (gateways, keys, base URLs, timeouts, headers).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from hermes_gateway import GatewayClient

if TYPE_CHECKING:
    from pydantic import SecretStr


class ClientSlot:
    """Holds one model object's lazily created `GatewayClient`; never copied, pickled or serialised.

    A deep copy or an unpickled model starts with an empty slot and builds its own client on first use.
    """

    __slots__ = ("client", "key", "lock")

    def __init__(self) -> None:
        self.client: GatewayClient | None = None
        self.key: tuple[Any, ...] | None = None
        self.lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        # A cache, not state: two models with equal fields are equal whatever their clients.
        return isinstance(other, ClientSlot)

    def __hash__(self) -> int:
        return 0

    def __deepcopy__(self, memo: dict[int, Any]) -> ClientSlot:
        return ClientSlot()

    def __reduce__(self) -> tuple[type[ClientSlot], tuple[()]]:
        return (ClientSlot, ())


class Connected(Protocol):
    """What a model object holds to build its client (fields of ChatHermes and GatewayEmbeddings)."""

    _slot: ClientSlot
    api_key: SecretStr | dict[str, SecretStr] | None
    base_url: str | dict[str, str] | None
    timeout: float | None
    max_retries: int | None
    default_headers: dict[str, str] | None
    allow_insecure_http: bool

    @property
    def gateways(self) -> tuple[str, ...]: ...


def settings_key(model: Connected) -> tuple[Any, ...]:
    """Everything the client is built from: a model edited after its first call gets a new client."""
    if isinstance(model.api_key, dict):
        key: Any = tuple(sorted((g, k.get_secret_value()) for g, k in model.api_key.items()))
    else:
        key = model.api_key.get_secret_value() if model.api_key is not None else None
    base_url = tuple(sorted(model.base_url.items())) if isinstance(model.base_url, dict) else model.base_url
    headers = tuple(sorted(model.default_headers.items())) if model.default_headers else None
    return (
        model.gateways,
        key,
        base_url,
        model.timeout,
        model.max_retries,
        headers,
        model.allow_insecure_http,
    )


def client_of(model: Connected) -> GatewayClient:
    """The model's client (one route per gateway), created on first use and reused; rebuilt if connection
    settings changed."""
    slot = model._slot
    client = slot.client
    key = settings_key(model)
    if client is not None and slot.key == key:
        return client
    if client is not None:  # settings changed (or a shallow copy was edited): use a slot of our own
        slot = model._slot = ClientSlot()
    with slot.lock:
        if slot.client is None:
            kwargs: dict[str, Any] = {
                "api_key": model.api_key,
                "base_url": model.base_url,
                "default_headers": model.default_headers,
                "allow_insecure_http": model.allow_insecure_http,
            }
            if model.timeout is not None:
                kwargs["timeout"] = model.timeout
            if model.max_retries is not None:
                kwargs["max_retries"] = model.max_retries
            slot.client = GatewayClient(model.gateways, **kwargs)
            slot.key = key
        return slot.client


def close_client(model: Connected) -> None:
    """Close the model's HTTP connections (a new client is created if the model is used again)."""
    slot, model._slot = model._slot, ClientSlot()
    if slot.client is not None:
        slot.client.close()


async def aclose_client(model: Connected) -> None:
    slot, model._slot = model._slot, ClientSlot()
    if slot.client is not None:
        await slot.client.aclose()
