"""`GatewayEmbedding`: the gateways' embedding models as a LlamaIndex `BaseEmbedding`, on the `Hermes` key.

LlamaIndex cuts the texts into `embed_batch_size` batches and wraps each in its callback (`CBEventType.
EMBEDDING`, which `TokenCountingHandler` counts) and instrumentation events; each batch is one call of the
core's `EmbeddingsClient` (failover, retries, base64, typed errors). Each call's `Usage` (the gateway's token
count and cost) is dispatched as an `EmbeddingUsageEvent` to instrumentation handlers and given to
`usage_hook`. Async batches run at most `num_workers` at a time (LlamaIndex's own bound; default 4 here,
where LlamaIndex would otherwise start them all at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator
from llama_index_instrumentation import get_dispatcher  # what llama_index.core.instrumentation re-exports
from llama_index_instrumentation.base.event import BaseEvent
from typing_extensions import Self

from hermes_gateway import (
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    EMBEDDING_MAX_CONCURRENCY,
    EmbeddingResult,
    EmbeddingsClient,
    GatewayClient,
    UsageHook,
)

if TYPE_CHECKING:
    from llama_index.core.callbacks import CallbackManager

dispatcher = get_dispatcher(__name__)

DEFAULT_EMBED_BATCH_SIZE = 100
"""Texts per LlamaIndex batch (one gateway call each; LlamaIndex's own default is 10)."""


class EmbeddingUsageEvent(BaseEvent):
    """The gateway's usage of one embedding call (one LlamaIndex batch), for instrumentation handlers."""

    model: str | None = None
    gateway: str | None = None
    prompt_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None
    texts: int = 0

    @classmethod
    def class_name(cls) -> str:
        return "EmbeddingUsageEvent"


class GatewayEmbedding(BaseEmbedding):
    """Embedding models on APIpie, AI/ML API or an OpenAI-compatible server, for LlamaIndex.

    ```python
    from llama_index.core import Settings, VectorStoreIndex
    from llamaindex_hermes import GatewayEmbedding, Hermes

    Settings.embed_model = GatewayEmbedding(gateway="apipie")    # text-embedding-3-small, APIPIE_API_KEY
    Settings.llm = Hermes(model="hermes-3-llama-3.1-70b", gateway="apipie")
    index = VectorStoreIndex.from_documents(documents)
    ```
    """

    gateway: str | list[str] = Field(
        default="apipie",
        description='"apipie", "aimlapi" or "openai" (an OpenAI-compatible server), or a list tried in order '
        "(the first gateway that answers serves every text of a batch).",
    )
    api_key: SecretStr | dict[str, SecretStr] | None = Field(
        default=None,
        exclude=True,
        repr=False,
        description="The gateway key, or a mapping per gateway; None reads the gateway's environment "
        "variable (APIPIE_API_KEY, AIMLAPI_API_KEY) at the first request.",
    )
    base_url: str | dict[str, str] | None = Field(default=None, description="Overrides the base URL.")
    dimensions: int | None = Field(default=None, ge=1, description="Shorter vectors (text-embedding-3).")
    encoding_format: Literal["float", "base64"] = Field(
        default="float", description='"base64" is smaller on the wire; vectors are floats either way.'
    )
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, description="Seconds to connect and per read.")
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0, description="Retries on 408/409/429/5xx.")
    default_headers: dict[str, str] | None = Field(default=None, exclude=True, repr=False)
    allow_insecure_http: bool = Field(default=False, description="Allow plain http:// to a remote host.")
    usage_hook: UsageHook | None = Field(default=None, exclude=True, repr=False)

    model_config = ConfigDict(
        arbitrary_types_allowed=True, extra="forbid", protected_namespaces=(), hide_input_in_errors=True
    )

    _client: GatewayClient | None = PrivateAttr(default=None)
    _embedder: EmbeddingsClient | None = PrivateAttr(default=None)
    _built_for: tuple[Any, ...] = PrivateAttr(default=())

    def __init__(
        self,
        model_name: str | None = None,
        gateway: str | Sequence[str] = "apipie",
        api_key: str | SecretStr | Mapping[str, str | SecretStr] | None = None,
        base_url: str | Mapping[str, str] | None = None,
        embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE,
        num_workers: int | None = EMBEDDING_MAX_CONCURRENCY,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        names = [gateway] if isinstance(gateway, str) else list(gateway)
        fields: dict[str, Any] = {  # a dict: BaseEmbedding's typed __init__ does not know this class's fields
            "model_name": model_name or DEFAULT_EMBEDDING_MODEL.get(names[0] if names else "") or "",
            "gateway": gateway if isinstance(gateway, str) else list(gateway),
            "api_key": dict(api_key) if isinstance(api_key, Mapping) else api_key,
            "base_url": dict(base_url) if isinstance(base_url, Mapping) else base_url,
            "embed_batch_size": embed_batch_size,
            "num_workers": num_workers,
            "callback_manager": callback_manager,
        }
        super().__init__(**fields, **kwargs)

    def _settings(self) -> tuple[Any, ...]:
        """What the client is built from: a field edited after construction means a new client."""
        fields = (
            "model_name", "gateway", "api_key", "base_url", "dimensions", "encoding_format", "timeout",
            "max_retries", "default_headers", "allow_insecure_http", "usage_hook",
        )  # fmt: skip
        values = (getattr(self, name) for name in fields)
        return tuple(v.copy() if isinstance(v, (dict, list)) else v for v in values)

    @model_validator(mode="after")
    def _build(self) -> Self:
        """Every check at construction, by building the client once (unknown gateway, bad or plain-http
        URL, a mapping naming other gateways, no model for `openai`)."""
        self._make_client()
        return self

    def _make_client(self) -> None:
        previous = self._client
        self._built_for = self._settings()
        self._client = GatewayClient(
            self.gateways,
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            default_headers=self.default_headers,
            allow_insecure_http=self.allow_insecure_http,
        )
        self._embedder = EmbeddingsClient(
            model=self.model_name or None,
            dimensions=self.dimensions,
            encoding_format=self.encoding_format,
            # LlamaIndex already cuts batches of embed_batch_size; a batch larger than the gateway's limit is
            # cut again by the core (at its default size), so no request exceeds either.
            usage_hook=self.usage_hook,
            client=self._client,
        )
        if previous is not None:  # settings changed: the old routes' pools are not used again
            previous.close()

    @property
    def gateways(self) -> tuple[str, ...]:
        return (self.gateway,) if isinstance(self.gateway, str) else tuple(self.gateway)

    @classmethod
    def class_name(cls) -> str:
        return "GatewayEmbedding"

    def _client_for_call(self) -> EmbeddingsClient:
        if self._embedder is None or self._built_for != self._settings():
            self._make_client()
        embedder = self._embedder
        assert embedder is not None  # set by _build
        return embedder

    def _report(self, result: EmbeddingResult, count: int) -> list[list[float]]:
        usage = result.usage
        dispatcher.event(
            EmbeddingUsageEvent(
                model=usage.model if usage is not None else result.model,
                gateway=result.gateway,
                prompt_tokens=usage.prompt_tokens if usage is not None else 0,
                total_tokens=usage.total_tokens if usage is not None else 0,
                cost_usd=usage.cost_usd if usage is not None else None,
                texts=count,
            )
        )
        return result.vectors

    # --- BaseEmbedding -------------------------------------------------------------------------------------

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._report(self._client_for_call().embed(texts), len(texts))

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._report(await self._client_for_call().aembed(texts), len(texts))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return (await self._aget_text_embeddings([text]))[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return await self._aget_text_embedding(query)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


__all__ = ["EmbeddingUsageEvent", "GatewayEmbedding"]
