"""Embeddings, the pure part: input checks, batching, request bodies, reply parsing and usage, no I/O.

The I/O drivers in `_embeddings.py` call these; keeping them pure makes every rule testable without a
server. Wire facts (shared/reference/gateways.md, the gateways' docs):
- both gateways serve OpenAI's `POST /v1/embeddings`: `model`, `input` (a string or a list of strings),
  `encoding_format` (`float`, or `base64`: little-endian float32, where the model's provider supports it),
  `dimensions` (OpenAI text-embedding-3 models);
- APIpie's usage adds `cost` (a STRING) and `latency_ms`; AI/ML API's cost is in `meta.usage.usd_spent`
  or the `x-aimlapi-usd-spent` header, and it answers 201;
- an empty string is a 400 on both gateways (OpenAI's "'$.input' is invalid"), so it is refused before
  sending; a local OpenAI-compatible server may accept it, so there it is sent.
"""

from __future__ import annotations

import array
import base64
import binascii
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._chunks import usage_from
from ._error_bodies import error_from_payload, text_excerpt
from ._exceptions import BadRequestError, InvalidResponseError
from ._types import Usage

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

EncodingFormat = Literal["float", "base64"]

DEFAULT_CHUNK_SIZE: dict[str, int] = {"apipie": 512, "aimlapi": 512, "openai": 256}
"""Inputs per request when `chunk_size` is not given. Neither gateway documents a limit (OpenAI's own is
2048 inputs and 300k tokens per request); 512 short texts stay well inside both. Local servers vary (TEI's
default is 32): pass `chunk_size=` for them."""

DEFAULT_MAX_CONCURRENCY = 4
"""Async: batches in flight at once per call."""

REJECTS_EMPTY_INPUT: frozenset[str] = frozenset({"apipie", "aimlapi"})
USD_SPENT_HEADER = "x-aimlapi-usd-spent"
_LITTLE_ENDIAN = sys.byteorder == "little"


class InvalidEmbeddingInputError(BadRequestError, ValueError):
    """Input the gateway would refuse (or that is not text), caught before anything is sent."""


@dataclass(slots=True)
class EmbeddingResult:
    """The vectors of one call, in input order, and its usage (summed over the batches)."""

    vectors: list[list[float]]
    usage: Usage | None = None
    model: str | None = None
    gateway: str | None = None
    """The gateway that served every batch of the call (one call never mixes gateways)."""
    batches: int = 0
    raw_usages: list[dict[str, Any]] = field(default_factory=list, repr=False)


# --- before sending ----------------------------------------------------------------------------------------


def check_inputs(texts: Sequence[str], gateways: Sequence[str]) -> list[str]:
    """`texts` as a list, or InvalidEmbeddingInputError saying what is wrong and what to do."""
    if isinstance(texts, (str, bytes)):
        raise InvalidEmbeddingInputError(
            "embed a list of strings: wrap a single text in a list ([text]), or use embed_query",
            status_code=None,
        )
    items = list(texts)
    if not items:
        raise InvalidEmbeddingInputError("nothing to embed: pass at least one text", status_code=None)
    for index, text in enumerate(items):
        if not isinstance(text, str):
            raise InvalidEmbeddingInputError(
                f"input {index} is a {type(text).__name__}, not a str: convert it to text first "
                "(token arrays are not accepted by the gateways' embedding models)",
                status_code=None,
            )
    rejecting = [g for g in gateways if g in REJECTS_EMPTY_INPUT]
    if rejecting:
        empty = [i for i, text in enumerate(items) if not text]
        if empty:
            raise InvalidEmbeddingInputError(
                f"input {empty[0]} is an empty string, which {' and '.join(rejecting)} refuse(s) with a 400: "
                f"drop empty texts (or replace them with a placeholder such as ' ') before embedding "
                f"({len(empty)} empty of {len(items)})",
                status_code=None,
            )
    return items


def check_options(dimensions: int | None, encoding_format: str, chunk_size: int | None) -> None:
    """ValueError for options no gateway would take."""
    if dimensions is not None and (isinstance(dimensions, bool) or dimensions < 1):
        raise ValueError(f"dimensions must be a positive integer, got {dimensions!r}")
    if encoding_format not in ("float", "base64"):
        raise ValueError(f"encoding_format must be 'float' or 'base64', got {encoding_format!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")


def batch_bounds(count: int, size: int) -> list[tuple[int, int]]:
    """[start, end) of each batch of at most `size` inputs, in order."""
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def request_body(
    model: str, texts: list[str], *, dimensions: int | None, encoding_format: EncodingFormat
) -> dict[str, Any]:
    """The JSON body; optional fields only when set (AI/ML API refuses unknown or extra fields)."""
    body: dict[str, Any] = {"model": model, "input": texts}
    if encoding_format != "float":
        body["encoding_format"] = encoding_format
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


# --- the reply ---------------------------------------------------------------------------------------------


def _invalid(gateway: str, status: int, what: str, payload: Any) -> InvalidResponseError:
    return InvalidResponseError(
        f"{gateway} answered {status} with an embeddings reply that {what}: "
        f"{text_excerpt(json.dumps(payload, default=str)[:400]) or '(empty)'}",
        gateway=gateway,
        status_code=status,
        body=payload,
    )


def loads_reply(content: bytes) -> Any:
    """The reply's JSON with every integer literal read as a float (`parse_int=float`).

    Vectors then hold only floats (a `0` or `1` in a vector is a float too) and need no per-number
    conversion: `parse_vectors` only checks that they are numbers, at C speed, without copying them.
    Integers elsewhere (token counts, indices) become floats and are read back with `int()`.
    """
    return json.loads(content, parse_int=float)


def _integers(value: Any) -> Any:
    """`value` with the whole floats `loads_reply` made turned back into ints (for error bodies: codes)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def _decode_base64(value: str) -> list[float]:
    values = array.array("f")
    values.frombytes(base64.b64decode(value, validate=True))
    if not _LITTLE_ENDIAN:
        values.byteswap()
    return values.tolist()


def parse_vectors(
    payload: Any, *, expected: int, gateway: str, status: int, headers: Mapping[str, str] | None = None
) -> list[list[float]]:
    """The vectors of one batch in input order (by each item's `index`), as lists of floats.

    A 2xx body that carries an `error` object is that error; a reply with the wrong number of vectors, a
    missing or repeated index, or a value that is not a number raises InvalidResponseError: never a silently
    partial answer.
    """
    if isinstance(payload, dict) and payload.get("error") and not payload.get("data"):
        raise error_from_payload(_integers(payload), gateway=gateway, headers=headers)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise _invalid(gateway, status, "has no `data` list", payload)
    if len(data) != expected:
        raise _invalid(gateway, status, f"has {len(data)} vectors for {expected} inputs", payload)
    vectors: list[list[float] | None] = [None] * expected
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise _invalid(gateway, status, "has an item that is not an object", payload)
        index = item.get("index", position)
        if isinstance(index, float) and index.is_integer():  # loads_reply reads integers as floats
            index = int(index)
        if not isinstance(index, int) or not 0 <= index < expected or vectors[index] is not None:
            what = f"has a missing, repeated or out-of-range index {index!r}"
            raise _invalid(gateway, status, what, payload)
        raw = item.get("embedding")
        try:
            if isinstance(raw, str):
                vectors[index] = _decode_base64(raw)
            elif isinstance(raw, list) and raw:
                sum(raw)  # TypeError unless every item is a number: a check at C speed, no copy
                vectors[index] = raw if type(raw[0]) is float else list(map(float, raw))
            else:
                raise TypeError("not a list of numbers")
        except (TypeError, ValueError, binascii.Error) as exc:
            raise _invalid(gateway, status, f"has an embedding that is not numbers ({exc})", payload) from exc
    return vectors  # type: ignore[return-value]  # every slot was filled above (count and indices checked)


def batch_usage(
    payload: Any,
    headers: Mapping[str, str],
    *,
    gateway: str,
    model: str,
    measured_latency_ms: float,
    cost_per_mtok: float | None,
) -> Usage | None:
    """One batch's `Usage`: the gateway's numbers, its cost (body, `meta`, then AI/ML API's header), else
    the catalog price; None when the reply has no usage at all."""
    if not isinstance(payload, dict):
        return None
    raw = payload.get("usage")
    meta = payload.get("meta")
    if not isinstance(raw, dict):
        return None
    raw = _integers(raw)  # token counts, read as floats by loads_reply
    usage = usage_from(
        raw,
        meta=_integers(meta) if isinstance(meta, dict) else None,
        gateway=gateway,
        model=str(payload.get("model") or model),
        provider=payload.get("provider") if isinstance(payload.get("provider"), str) else None,
        measured_latency_ms=measured_latency_ms,
    )
    if usage.cost_usd is None:
        header = headers.get(USD_SPENT_HEADER)
        try:
            usage.cost_usd = float(header) if header is not None else None
        except ValueError:
            usage.cost_usd = None
    if usage.cost_usd is None and cost_per_mtok is not None:
        usage.cost_usd = usage.prompt_tokens * cost_per_mtok / 1e6
    return usage


def merge_usage(usages: list[Usage | None], *, latency_ms: float) -> Usage | None:
    """One `Usage` for the call: tokens summed, cost summed when every batch has one (else None: a partial
    sum would pass for the whole), latency the call's wall time when there were several batches."""
    known = [u for u in usages if u is not None]
    if not known:
        return None
    if len(usages) == 1:
        return known[0]
    first = known[0]
    costs = [u.cost_usd for u in usages if u is not None]
    complete = len(known) == len(usages) and all(c is not None for c in costs)
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in known),
        completion_tokens=0,
        total_tokens=sum(u.total_tokens for u in known),
        cost_usd=sum(c for c in costs if c is not None) if complete else None,
        latency_ms=latency_ms,
        provider=first.provider,
        model=first.model,
        gateway=first.gateway,
        raw={"batches": [u.raw for u in known]},
    )
