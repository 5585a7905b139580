"""langchain-tests' `EmbeddingsUnitTests` and `EmbeddingsIntegrationTests` for GatewayEmbeddings.

The integration suite runs on both gateways and replays `cassettes/replica/langchain_embeddings/<Class>.<test>
.yaml` (record mode none; no network). Recorded against the in-repo replica with
`python -m tests.record_cassettes tests/langchain/test_embeddings_standard.py`; `--target live` with real keys
records the live twins. `dimensions=64` keeps the cassettes small (text-embedding-3-small takes it on both).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from langchain_hermes import GatewayEmbeddings
from tests.cassette_support import gateway_api_key, gateway_base_url

CASSETTE_SUITE = "langchain_embeddings"


def _params(gateway: str) -> dict[str, Any]:
    return {
        "model": "text-embedding-3-small",
        "gateway": gateway,
        "base_url": gateway_base_url(gateway),
        "api_key": gateway_api_key(gateway),
        "dimensions": 64,
    }


class TestGatewayEmbeddingsUnitApipie(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[GatewayEmbeddings]:
        return GatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"gateway": "apipie"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ({"APIPIE_API_KEY": "key-from-env"}, {"gateway": "apipie"}, {"api_key": "key-from-env"})


class TestGatewayEmbeddingsUnitAimlapi(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[GatewayEmbeddings]:
        return GatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"gateway": "aimlapi", "dimensions": 256}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return ({"AIMLAPI_API_KEY": "key-from-env"}, {"gateway": "aimlapi"}, {"api_key": "key-from-env"})


@pytest.mark.vcr
class TestGatewayEmbeddingsApipie(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[GatewayEmbeddings]:
        return GatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return _params("apipie")


@pytest.mark.vcr
class TestGatewayEmbeddingsAimlapi(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[GatewayEmbeddings]:
        return GatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return _params("aimlapi")
