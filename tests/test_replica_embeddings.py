"""The replica's `POST /v1/embeddings`: each dialect's shape, limits and refusals, with plain httpx."""

from __future__ import annotations

import base64
import struct

import httpx
import pytest

from tests.replica import EMBEDDINGS_PATH, MAX_BATCH, Fault, Replica, vector

AUTH = {"Authorization": "Bearer replica-embeddings-test"}


def post(replica: Replica, dialect: str, body: object, **kw: object) -> httpx.Response:
    return httpx.post(replica[dialect].root_url + EMBEDDINGS_PATH, json=body, headers=AUTH, **kw)  # type: ignore[arg-type]


def test_apipie_shape(replica: Replica) -> None:
    reply = post(
        replica, "apipie", {"model": "text-embedding-3-small", "input": ["a b", "c"], "dimensions": 8}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert body["data"][0]["embedding"] == pytest.approx(vector("a b", 8))
    assert body["provider"] == "openai"
    assert isinstance(body["usage"]["cost"], str)
    assert body["usage"]["latency_ms"] > 0


def test_aimlapi_shape(replica: Replica) -> None:
    reply = post(replica, "aimlapi", {"model": "text-embedding-3-small", "input": "one text"})
    assert reply.status_code == 201
    assert float(reply.headers["x-aimlapi-usd-spent"]) > 0
    assert len(reply.json()["data"][0]["embedding"]) == 1536
    assert reply.json()["meta"]["usage"]["usd_spent"] > 0
    no_meta = post(replica, "aimlapi", {"model": "BAAI/bge-base-en-v1.5", "input": ["x"]})
    assert "meta" not in no_meta.json()
    assert float(no_meta.headers["x-aimlapi-usd-spent"]) > 0


def test_base64_is_little_endian_float32(replica: Replica) -> None:
    body = {"model": "text-embedding-3-small", "input": ["a b"], "encoding_format": "base64", "dimensions": 4}
    raw = base64.b64decode(post(replica, "apipie", body).json()["data"][0]["embedding"])
    assert list(struct.unpack("<4f", raw)) == pytest.approx(vector("a b", 4), abs=1e-6)


@pytest.mark.parametrize(
    ("dialect", "body", "status", "says"),
    [
        ("apipie", {"model": "text-embedding-3-small", "input": []}, 400, "non-empty"),
        ("apipie", {"model": "text-embedding-3-small", "input": ["a", ""]}, 400, "empty string"),
        ("apipie", {"model": "text-embedding-3-small", "input": ["a", 1]}, 400, "must be a string"),
        ("apipie", {"model": "text-embedding-ada-002", "input": ["a"], "dimensions": 8}, 400, "dimensions"),
        (
            "apipie",
            {"model": "bge-large-en-v1.5", "input": ["a"], "encoding_format": "base64"},
            400,
            "base64",
        ),
        ("apipie", {"model": "nope", "input": ["a"]}, 404, "does not exist"),
        ("aimlapi", {"model": "text-embedding-3-small", "input": ["a"], "user": "u"}, 400, "Body validation"),
        ("openai", {"model": "nomic-embed-text", "input": ["a"] * (MAX_BATCH["openai"] + 1)}, 400, "at most"),
    ],
)
def test_refusals(replica: Replica, dialect: str, body: object, status: int, says: str) -> None:
    reply = post(replica, dialect, body)
    assert reply.status_code == status
    assert says in reply.text


def test_auth_and_faults(replica: Replica) -> None:
    assert httpx.post(replica.apipie.root_url + EMBEDDINGS_PATH, json={}).status_code == 401
    replica.aimlapi.enqueue(Fault.rate_limited(retry_after=2, path=EMBEDDINGS_PATH))
    limited = post(replica, "aimlapi", {"model": "text-embedding-3-small", "input": ["a"]})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert post(replica, "aimlapi", {"model": "text-embedding-3-small", "input": ["a"]}).status_code == 201
