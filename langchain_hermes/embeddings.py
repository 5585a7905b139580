"""`GatewayEmbeddings`: the gateways' embedding models as a LangChain `Embeddings`, on ChatHermes's key.

Everything is the core's `EmbeddingsClient` (batching, failover, retries, base64, usage); this class holds
the settings, validates them once at construction (by building the client), and maps lists to lists. The key
is handled as for ChatHermes: a `SecretStr` (or one per gateway), read from the gateway's environment
variable at construction when not given, never required before the first request.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from typing_extensions import Self

from hermes_gateway import (
    DEFAULT_EMBEDDING_MODEL,
    EMBEDDING_MAX_CONCURRENCY,
    EmbeddingsClient,
    GatewayClient,
    UsageHook,
    gateway_field,
    resolve_routes,
)

from ._connection import ClientSlot, aclose_client, client_of, close_client
from .chat_models import _with_env_keys


class GatewayEmbeddings(BaseModel, Embeddings):
    """Embedding models on APIpie, AI/ML API or an OpenAI-compatible server, with the key ChatHermes uses.

    ```python
    from langchain_hermes import GatewayEmbeddings

    embeddings = GatewayEmbeddings(gateway="aimlapi")      # text-embedding-3-small; key from AIMLAPI_API_KEY
    vectors = embeddings.embed_documents(["first text", "second text"])
    ```

    Texts are sent in batches of `chunk_size` (default: the gateway's, 512), async batches run
    `max_concurrency` at a time, and vectors always come back in input order as lists of floats. Unlike
    `OpenAIEmbeddings` pointed at a gateway, it sends text, never token arrays, so any gateway model works.
    """

    model_config = ConfigDict(
        populate_by_name=True, extra="forbid", arbitrary_types_allowed=True, hide_input_in_errors=True
    )
    """`hide_input_in_errors`: a validation error must not quote the constructor's input (it has the key)."""

    model: str | None = Field(default=None, validation_alias=AliasChoices("model", "model_name"))
    """None: the first gateway's default (`text-embedding-3-small` on APIpie and AI/ML API); required for
    `gateway="openai"`."""
    gateway: str | list[str] = "apipie"
    """A gateway or a list tried in order: the first batch fails over on an outage (5xx, 429, timeout), and
    the gateway that served it serves every batch of the call, so vectors never mix embedding spaces."""
    api_key: SecretStr | dict[str, SecretStr] | None = None
    """As for ChatHermes: from the gateway's env var when not given; a mapping per gateway for a list."""
    base_url: str | dict[str, str] | None = None
    dimensions: int | None = Field(default=None, ge=1)
    """Shorter vectors (OpenAI text-embedding-3 models); None: the model's own size."""
    chunk_size: int | None = Field(default=None, ge=1)
    """Texts per request; None: the gateway's default (512 on both gateways, 256 for `openai`)."""
    max_concurrency: int = Field(default=EMBEDDING_MAX_CONCURRENCY, ge=1)
    """Async: batches in flight at once."""
    encoding_format: Literal["float", "base64"] = "float"
    """`base64` is smaller on the wire (decoded here to floats); only OpenAI-served models offer it."""
    timeout: float | None = Field(default=None, gt=0.0)
    max_retries: int | None = Field(default=None, ge=0)
    default_headers: dict[str, str] | None = None
    allow_insecure_http: bool = False
    usage_hook: UsageHook | None = Field(default=None, exclude=True)
    """Called once per call with its `Usage` (tokens, cost, gateway), as for chat."""

    _slot: ClientSlot = PrivateAttr(default_factory=ClientSlot)

    @property
    def gateways(self) -> tuple[str, ...]:
        return (self.gateway,) if isinstance(self.gateway, str) else tuple(self.gateway)

    @field_validator("gateway", mode="before")
    @classmethod
    def _check_gateway_list(cls, value: Any) -> Any:
        """One clear message for a misspelt or repeated gateway (the core's wording, as ChatHermes)."""
        return gateway_field(value)

    @model_validator(mode="after")
    def _build(self) -> Self:
        """Key from the environment, then every other check by building the client once (bad URLs,
        unknown gateways, a mapping naming other gateways, a missing model for `openai`)."""
        routes = resolve_routes(
            self.gateways,
            api_key=self.api_key,
            base_url=self.base_url,
            allow_insecure_http=self.allow_insecure_http,
        )
        self.api_key = _with_env_keys(routes, isinstance(self.api_key, dict))
        if self.model is None:
            self.model = DEFAULT_EMBEDDING_MODEL.get(self.gateways[0])
        self._embedder(self._chat_client())
        return self

    # --- the client --------------------------------------------------------------------------------------

    def _chat_client(self) -> GatewayClient:
        """The routes (keys, URLs, pools, retries), built once and rebuilt if connection settings change."""
        return client_of(self)

    def _embedder(self, client: GatewayClient) -> EmbeddingsClient:
        return EmbeddingsClient(
            model=self.model,
            dimensions=self.dimensions,
            encoding_format=self.encoding_format,
            chunk_size=self.chunk_size,
            max_concurrency=self.max_concurrency,
            usage_hook=self.usage_hook,
            client=client,
        )

    def close(self) -> None:
        """Close the HTTP connections (a new client is made if the object is used again)."""
        close_client(self)

    async def aclose(self) -> None:
        await aclose_client(self)

    # --- Embeddings ----------------------------------------------------------------------------------------

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (InvalidEmbeddingInputError, a ValueError, for an empty list,
        a non-string or an empty string the gateway would refuse: nothing is sent then)."""
        return self._embedder(self._chat_client()).embed(texts).vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return (await self._embedder(self._chat_client()).aembed(texts)).vectors

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]


__all__ = ["GatewayEmbeddings"]
