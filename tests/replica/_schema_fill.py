"""Arguments and JSON objects generated from a JSON schema, with values taken from the user's text.

Plain rules, no randomness: numbers in the text fill integer/number properties in order; quoted strings,
"in <Place>" phrases and capitalised words fill name-like and other string properties; enums pick the
value the text mentions; text-like properties (description, query, setup, ...) get a sentence built from
the prompt. Unicode is kept as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_QUOTED = re.compile(r"'([^'\n]+)'|\"([^\"\n]+)\"|“([^”\n]+)”|「([^」\n]+)」")
_PLACE = re.compile(r"\b(?:in|at|for|near|of)\s+((?:[A-Z][\w.'-]*)(?:\s+[A-Z][\w.'-]*)*(?:,\s*[A-Z]{2,}\b)?)")
_CAPITAL = re.compile(r"(?<![\w'])([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_TOPIC = re.compile(r"\babout\s+([\w' -]+?)(?:[.,;:!?]|\s+(?:and|with|but|no|include)\b|$)", re.IGNORECASE)

_NAME_KEYS = ("name", "title", "customer", "person", "user", "company", "style", "label")
_PLACE_KEYS = ("location", "city", "place", "address", "country", "region", "destination", "origin")
_TEXT_KEYS = (
    "description",
    "text",
    "content",
    "message",
    "summary",
    "reason",
    "answer",
    "explanation",
    "comment",
    "body",
    "details",
    "note",
)
_QUERY_KEYS = ("query", "question", "search", "prompt", "input_text", "request")
_STOP_CAPITALS = {"I", "A", "The", "What", "Use", "Using", "Please", "Return", "Tell", "Give", "Hello", "Hi"}


def topic_of(text: str) -> str:
    """What the prompt is about: the words after "about", else its last few content words."""
    found = _TOPIC.search(text)
    if found:
        return found.group(1).strip()
    words = re.findall(r"[^\W\d_][\w'-]*", text, re.UNICODE)
    return " ".join(words[-3:]) if words else "this"


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:\n"


@dataclass(slots=True)
class Candidates:
    """The values found in the user's text, consumed in order of appearance as properties are filled."""

    text: str
    numbers: list[float] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    capitals: list[str] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> Candidates:
        quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(text)]
        unquoted = _QUOTED.sub(" ", text)
        numbers = [float(m.group(0)) for m in _NUMBER.finditer(unquoted)]
        places = [m.group(1).strip() for m in _PLACE.finditer(unquoted)]
        capitals = [
            m.group(1)
            for m in _CAPITAL.finditer(unquoted)
            if m.group(1) not in _STOP_CAPITALS
            and not _sentence_initial(unquoted, m.start())
            and m.group(1) not in places
            and not any(m.group(1) in p for p in places)
        ]
        return cls(text, numbers, quoted, places, capitals)

    def take_number(self) -> float | None:
        return self.numbers.pop(0) if self.numbers else None

    def take_name(self) -> str | None:
        for pool in (self.quoted, self.capitals, self.places):
            if pool:
                return pool.pop(0)
        return None

    def take_place(self) -> str | None:
        for pool in (self.places, self.capitals, self.quoted):
            if pool:
                return pool.pop(0)
        return None


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = dict(target) if isinstance(target, dict) else {}
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        return _resolve(merged, root)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            chosen = next((o for o in options if isinstance(o, dict) and o.get("type") != "null"), options[0])
            merged = {k: v for k, v in schema.items() if k != key}
            merged.update(chosen)
            return _resolve(merged, root)
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in all_of:
            if isinstance(part, dict):
                merged.update(_resolve(part, root))
        return merged
    return schema


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if isinstance(kind, str):
        return kind
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if schema.get("enum"):
        return {bool: "boolean", int: "integer", float: "number"}.get(type(schema["enum"][0]), "string")
    return "string"


def _clamp(value: float, schema: dict[str, Any], integer: bool) -> float:
    step = 1 if integer else 0.5
    low = schema.get("minimum")
    high = schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)):
        low = schema["exclusiveMinimum"] + step
    if isinstance(schema.get("exclusiveMaximum"), (int, float)):
        high = schema["exclusiveMaximum"] - step
    if isinstance(low, (int, float)) and value < low:
        value = low
    if isinstance(high, (int, float)) and value > high:
        value = high
    return value


def _mentioned(key: str, text: str) -> bool:
    words = key.lower().replace("_", " ").replace("-", " ")
    lowered = text.lower()
    return words in lowered and f"no {words}" not in lowered and f"without {words}" not in lowered


def _joke_text(key: str, topic: str) -> str | None:
    if key == "setup":
        return f"Why did the {topic} sit on the keyboard?"
    if key == "punchline":
        return f"Because the {topic} wanted to keep an eye on the mouse."
    return None


def _string_value(key: str, schema: dict[str, Any], cands: Candidates) -> str:
    lowered = key.lower().replace("-", "_").rsplit("_", 1)[-1]
    topic = topic_of(cands.text)
    if "format" in schema and schema["format"] == "date":
        return "2025-01-01"
    joke = _joke_text(lowered, topic)
    if joke is not None:
        return joke
    if any(k in lowered for k in _PLACE_KEYS):
        return cands.take_place() or "Paris"
    if any(k in lowered for k in _QUERY_KEYS):
        return cands.text.strip()
    if any(k in lowered for k in _TEXT_KEYS):
        return f"{topic[:1].upper()}{topic[1:]}".strip() or "A short description"
    if any(k in lowered for k in _NAME_KEYS):
        return cands.take_name() or topic
    return cands.take_name() or topic


def value_for(key: str, schema: dict[str, Any], root: dict[str, Any], cands: Candidates) -> Any:
    """One value for a property `key` with `schema`, consuming candidates from the text."""
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        lowered = cands.text.lower()
        return next((v for v in enum if isinstance(v, str) and v.lower() in lowered), enum[0])
    kind = _schema_type(schema)
    if kind in ("integer", "number"):
        taken = cands.take_number()
        value = _clamp(taken if taken is not None else 0.0, schema, kind == "integer")
        return int(value) if kind == "integer" or float(value).is_integer() else value
    if kind == "boolean":
        lowered = cands.text.lower()
        negated = re.search(r"\b(no|not|false|disable|without|don't)\b", lowered) is not None
        return not negated and (_mentioned(key, lowered) or "true" in lowered)
    if kind == "object":
        return object_for(schema, root, cands)
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        assert isinstance(items, dict)
        item_schema = _resolve(items, root)
        item_kind = _schema_type(item_schema)
        count = max(int(schema.get("minItems", 1)), 1)
        if item_kind in ("integer", "number") and len(cands.numbers) > count:
            count = len(cands.numbers)
        elif item_kind == "string" and len(cands.quoted) + len(cands.capitals) > count:
            count = len(cands.quoted) + len(cands.capitals)
        max_items = schema.get("maxItems")
        if isinstance(max_items, int):
            count = min(count, max_items)
        return [value_for(key.rstrip("s"), item_schema, root, cands) for _ in range(count)]
    if kind == "null":
        return None
    return _string_value(key, schema, cands)


def object_for(schema: dict[str, Any], root: dict[str, Any], cands: Candidates) -> dict[str, Any]:
    """An object for an object schema: required properties always, optional ones when the text names them."""
    schema = _resolve(schema, root)
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = schema.get("required")
    required_set = set(required) if isinstance(required, list) else set(properties)
    out: dict[str, Any] = {}
    for key, prop in properties.items():
        if key in required_set or _mentioned(key, cands.text):
            out[key] = value_for(key, prop if isinstance(prop, dict) else {}, root, cands)
    return out


def fill_schema(schema: dict[str, Any], text: str) -> Any:
    """A value matching `schema` (usually an object) built from `text`."""
    return value_for("value", schema, schema, Candidates.from_text(text))
