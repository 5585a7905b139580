"""The replica's deterministic "model brain": plain rules, no randomness.

Given a chat request and a model row it decides what a plausible model would answer: a tool call (forced by
`tool_choice`, or the tool whose name/description best matches the user's words), a text answer that uses
the tool results at the end of the history, JSON matching a requested schema, or a multi-sentence answer
derived from the prompt; then it applies `stop` and `max_tokens` and counts tokens. Dialect rendering (where
reasoning goes, whether tool calls are native or `<tool_call>` text) is decided here too, because it is a
property of the model row; the wire shapes are built in `_dialects.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ._models import Dialect, ReplicaModel
from ._schema_fill import Candidates, fill_schema, object_for, topic_of

_PIECE = re.compile(r"\s*(?:<|/|>|_?[^\s<>/_]+|_)|\s+$")
_TOOLS_BLOCK = re.compile(r"<tools>(.*?)</tools>", re.DOTALL)
_SCHEMA_BLOCK = re.compile(r"<schema>(.*?)</schema>", re.DOTALL)
_TOOL_RESPONSE = re.compile(r"<tool_response>\s*(.*?)\s*(?:</tool_response>|$)", re.DOTALL)
_FORCE_NAMED = re.compile(
    r"(?:must|always|have to|required to)\s+(?:call|use)\s+(?:the\s+)?(?:function|tool)?\s*"
    r"[`'\"]?([A-Za-z_][\w.-]*)"
)
_FORCE_ANY = re.compile(
    r"(?:must|always|have to|required to)\s+(?:call|use)\s+(?:at least\s+)?"
    r"(?:one of the|a|one)\s+(?:functions?|tools?)"
)
_FORCE_EVERY_TURN = re.compile(r"\balways\s+(?:call|use)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "and",
        "or",
        "what",
        "whats",
        "which",
        "how",
        "who",
        "use",
        "using",
        "tool",
        "tools",
        "please",
        "me",
        "my",
        "your",
        "you",
        "it",
        "this",
        "that",
        "with",
        "value",
        "get",
        "give",
        "tell",
        "can",
        "could",
        "would",
        "should",
        "do",
        "does",
    ]
)
_SYNONYMS = {
    "+": "add",
    "plus": "add",
    "sum": "add",
    "*": "multiply",
    "\u00d7": "multiply",
    "times": "multiply",
    "product": "multiply",
    "minus": "subtract",
    "difference": "subtract",
    "divided": "divide",
    "forecast": "weather",
    "temperature": "weather",
}
_QUOTED_KEY = re.compile(r"['\"`]([A-Za-z_]\w*)['\"`]")
_GREETING = re.compile(r"^\s*(hello|hi|hey|good (?:morning|afternoon|evening))\b", re.IGNORECASE)


class BrainError(Exception):
    """A request the model (or its upstream provider) refuses; rendered in the dialect's error shape."""

    def __init__(self, status: int, message: str, code: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.kind = kind


@dataclass(slots=True)
class BrainToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class Reply:
    """What the model says, already shaped for its model row (see module docstring)."""

    content: str = ""
    reasoning: str = ""
    """Only for models whose reasoning travels in a field; inline reasoning is part of `content`."""
    tool_calls: list[BrainToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    digest: str = ""
    """A hash of the request, for deterministic ids."""


def pieces(text: str) -> list[str]:
    """Word-ish tokens; tags come apart like a real tokenizer splits them (`<`, `tool`, `_call`, `>`)."""
    return _PIECE.findall(text)


def count_tokens(text: str) -> int:
    return len(pieces(text))


def text_of(content: Any) -> str:
    """The text of a message's content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return "" if content is None else json.dumps(content)


def images_of(content: Any) -> list[str]:
    """The media types of the image parts of a message's content."""
    if not isinstance(content, list):
        return []
    found: list[str] = []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("image_url", "input_image", "image"):
            raw = part.get("image_url")
            url = raw.get("url", "") if isinstance(raw, dict) else str(raw or part.get("url", ""))
            match = re.match(r"data:([\w/+.-]+);base64,", url)
            found.append(match.group(1) if match else "image (url)")
    return found


def _words(text: str) -> list[str]:
    out: list[str] = []
    for raw in re.findall(r"[^\W_]+|[+*\u00d7]", text.lower(), re.UNICODE):
        out.append(_SYNONYMS.get(raw, raw))
    return [w for w in out if w not in _STOPWORDS]


def _similar(a: str, b: str) -> bool:
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5])


def _tool_function(tool: dict[str, Any]) -> dict[str, Any]:
    fn = tool.get("function") if isinstance(tool.get("function"), dict) else tool
    assert isinstance(fn, dict)
    return fn


def _score(tool: dict[str, Any], text: str) -> int:
    fn = _tool_function(tool)
    name = str(fn.get("name", ""))
    score = 10 if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", text) else 0
    name_words = [_SYNONYMS.get(w, w) for w in re.findall(r"[a-z]+|[A-Z][a-z]*", name.replace("_", " "))]
    name_words = [w.lower() for w in name_words if w.lower() not in _STOPWORDS]
    desc_words = [w for w in _words(str(fn.get("description", ""))) if len(w) > 3]
    user = _words(text)
    score += sum(2 for w in name_words if any(_similar(w, u) for u in user))
    score += sum(1 for w in set(desc_words) if any(_similar(w, u) for u in user))
    return score


def parse_prompt_tools(system: str) -> list[dict[str, Any]]:
    """The tools inside a Hermes `<tools>` block: a JSON list, or objects one after another."""
    inner = "\n".join(_TOOLS_BLOCK.findall(system))
    decoder = json.JSONDecoder()
    tools: list[dict[str, Any]] = []
    pos = 0
    while pos < len(inner):
        start = min((i for i in (inner.find("{", pos), inner.find("[", pos)) if i >= 0), default=-1)
        if start < 0:
            break
        try:
            value, pos = decoder.raw_decode(inner, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                tools.append(item if "function" in item else {"type": "function", "function": item})
    return tools


@dataclass(slots=True)
class _Context:
    request: dict[str, Any]
    model: ReplicaModel
    dialect: Dialect
    messages: list[dict[str, Any]]
    system: str
    user: str
    tools: list[dict[str, Any]]
    native: bool
    digest: str


def _call_id(ctx: _Context, index: int) -> str:
    return "call_" + hashlib.sha256(f"{ctx.digest}:{index}".encode()).hexdigest()[:24]


def _choice(ctx: _Context) -> tuple[str, str | None]:
    """("none" | "auto" | "required" | "named", name)."""
    choice = ctx.request.get("tool_choice")
    if isinstance(choice, dict):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, dict) else choice.get("name")
        return ("named", str(name)) if name else ("required", None)
    if choice in ("none", "required", "any"):
        return ("none" if choice == "none" else "required", None)
    if isinstance(choice, str) and choice != "auto":
        return "named", choice
    prompt_text = ctx.system + "\n" + ctx.user
    named = _FORCE_NAMED.search(prompt_text)
    names = {str(_tool_function(t).get("name")) for t in ctx.tools}
    if named and named.group(1).rstrip(".") in names:
        return "named", named.group(1).rstrip(".")
    if _FORCE_ANY.search(prompt_text):
        return "required", None
    return "auto", None


def _forced_every_turn(ctx: _Context) -> bool:
    """A system prompt that says to ALWAYS call a tool ("Always call get_weather") is obeyed on every turn,
    tool results or not, as real models do: the runaway agent loop spending caps exist for."""
    return bool(ctx.tools) and _FORCE_EVERY_TURN.search(ctx.system) is not None


def _plan_tool_calls(ctx: _Context) -> list[tuple[dict[str, Any], str]]:
    """(tool, text its arguments come from) for each call to make; empty for a text answer."""
    mode, name = _choice(ctx)
    if mode == "none" or not ctx.tools:
        return []
    if mode == "named":
        tool = next((t for t in ctx.tools if _tool_function(t).get("name") == name), None)
        if tool is None:
            raise BrainError(400, f"Tool choice '{name}' not found in tools list", "invalid_tool_choice")
        return [(tool, ctx.user)]
    parallel = ctx.request.get("parallel_tool_calls", True) is not False
    clauses = [c for c in re.split(r"(?<=[?.!;])\s+", ctx.user) if c.strip()]
    planned: list[tuple[dict[str, Any], str]] = []
    if parallel and len(clauses) > 1:
        for clause in clauses:
            scores = [(_score(t, clause), i) for i, t in enumerate(ctx.tools)]
            best, idx = max(scores, key=lambda s: (s[0], -s[1]))
            if best > 0:
                planned.append((ctx.tools[idx], clause))
        if len(planned) > 1:
            return planned
    scores = [(_score(t, ctx.user), i) for i, t in enumerate(ctx.tools)]
    best, idx = max(scores, key=lambda s: (s[0], -s[1]))
    if best == 0 and mode == "auto":
        return []
    tool = ctx.tools[idx]
    params = _tool_function(tool).get("parameters") or {}
    places = Candidates.from_text(ctx.user).places
    required = params.get("required", []) if isinstance(params, dict) else []
    if parallel and len(places) > 1 and len(required) == 1:
        return [(tool, f"in {place}") for place in places]
    return [(tool, ctx.user)]


def _tool_results(ctx: _Context) -> list[tuple[str, str]]:
    """(tool name, result text) for the tool results at the end of the history."""
    names: dict[str, str] = {}
    for msg in ctx.messages:
        for call in msg.get("tool_calls") or []:
            if isinstance(call, dict) and isinstance(call.get("function"), dict):
                names[str(call.get("id"))] = str(call["function"].get("name", "tool"))
    results: list[tuple[str, str]] = []
    for msg in reversed(ctx.messages):
        text = text_of(msg.get("content"))
        role = msg.get("role")
        # Hermes prompt mode sends results as `<tool_response>` blocks, in a "tool" message (the chat
        # template's role) or a "user" one; a real model reads the JSON inside, never the tags.
        blocks = _TOOL_RESPONSE.findall(text) if role in ("user", "tool") else []
        if role == "tool" and not blocks:
            name = msg.get("name") or names.get(str(msg.get("tool_call_id")), "tool")
            results.append((str(name), text))
            continue
        if not blocks:
            break
        for block in reversed(blocks):
            try:
                data = json.loads(block)
            except json.JSONDecodeError:
                data = {"name": "tool", "content": block}
            content = data.get("content", data) if isinstance(data, dict) else data
            name = data.get("name", "tool") if isinstance(data, dict) else "tool"
            results.append((str(name), content if isinstance(content, str) else json.dumps(content)))
    return list(reversed(results))


def _json_answer(ctx: _Context) -> str | None:
    fmt = ctx.request.get("response_format")
    schema_block = _SCHEMA_BLOCK.search(ctx.system)
    schema: Any = None
    if schema_block:
        try:
            schema = json.loads(schema_block.group(1))
        except json.JSONDecodeError:
            schema = None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema", spec) if isinstance(spec, dict) else schema
    elif not (isinstance(fmt, dict) and fmt.get("type") == "json_object") and not schema_block:
        return None
    if isinstance(schema, dict) and schema:
        value = fill_schema(schema, ctx.user)
    else:
        keys = list(dict.fromkeys(_QUOTED_KEY.findall(ctx.user)))
        props = {k: {"type": "string"} for k in keys}
        value = object_for({"properties": props}, {}, Candidates.from_text(ctx.user)) if keys else None
        if value is None:
            value = {"answer": _text_answer(ctx, [])}
    text = json.dumps(value, ensure_ascii=False)
    if schema_block and not fmt and ctx.model.fenced_json:
        return f"```json\n{text}\n```"
    return text


def _text_answer(ctx: _Context, images: list[str]) -> str:
    user = " ".join(ctx.user.split())
    short = user if len(user) <= 80 else user[:77] + "..."
    if images:
        kinds = ", ".join(images)
        return (
            f"The image you sent ({kinds}) shows a diagram with labelled boxes connected by arrows. "
            f'You asked: "{short}". In short, it is a flow chart drawn on a light background.'
        )
    if _GREETING.match(user):
        return (
            f"Hello! I am {ctx.model.name}, a Hermes model answering through the replica gateway. "
            "How can I help you today?"
        )
    topic = topic_of(user)
    return (
        f'You asked: "{short}". Here is a short answer about {topic}. '
        f"{ctx.model.name} answers deterministically, so the same question always gets this reply. "
        "Ask me for more detail if you need it."
    )


def _reasoning_text(ctx: _Context, plan: str) -> str:
    short = " ".join(ctx.user.split())[:60]
    return f'The user asked: "{short}". {plan}'


def _reasoning_enabled(ctx: _Context) -> bool:
    setting = ctx.request.get("reasoning")
    if isinstance(setting, dict) and setting.get("enabled") is False:
        return False
    return ctx.request.get("reasoning_effort") != "none" and ctx.model.reasoning != "none"


def _apply_limits(ctx: _Context, content: str, reasoning: str) -> tuple[str, str, str]:
    finish = "stop"
    stops = ctx.request.get("stop")
    stop_list = [stops] if isinstance(stops, str) else [s for s in stops or [] if isinstance(s, str) and s]
    cut = min((content.find(s) for s in stop_list if s in content), default=-1)
    if cut >= 0:
        content = content[:cut]
    limit = ctx.request.get("max_tokens") or ctx.request.get("max_completion_tokens")
    if isinstance(limit, int) and limit > 0:
        r_pieces = pieces(reasoning)
        if len(r_pieces) >= limit:
            return "", "".join(r_pieces[:limit]), "length"
        c_pieces = pieces(content)
        budget = limit - len(r_pieces)
        if len(c_pieces) > budget:
            content, finish = "".join(c_pieces[:budget]), "length"
    return content, reasoning, finish


def _context(request: dict[str, Any], model: ReplicaModel, dialect: Dialect) -> _Context:
    messages = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    system = "\n".join(
        text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    )
    user = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    native_tools = [t for t in request.get("tools") or [] if isinstance(t, dict)]
    tools = native_tools or parse_prompt_tools(system)
    digest = hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return _Context(request, model, dialect, messages, system, user, tools, bool(native_tools), digest)


def think(request: dict[str, Any], model: ReplicaModel, dialect: Dialect) -> Reply:
    """The model's reply to `request`; raises BrainError for what the model or provider refuses."""
    ctx = _context(request, model, dialect)
    images = [kind for m in ctx.messages for kind in images_of(m.get("content"))]
    if images and not model.vision:
        raise BrainError(400, f"Model {model.id} does not support image inputs", "unsupported_content")
    if ctx.native and model.tools == "refused":
        raise BrainError(
            405, f"Tool calling is not supported for model {model.wire_model}", "tool_calling_unsupported"
        )
    last_role = ctx.messages[-1].get("role") if ctx.messages else "user"
    results = _tool_results(ctx) if last_role in ("tool", "user") else []
    reply = Reply(digest=ctx.digest)
    reasoning = ""
    content = ""
    if results and (last_role == "tool" or not ctx.native) and not _forced_every_turn(ctx):
        summary = " ".join(f"The {name} tool returned {text.strip()}." for name, text in results)
        content = f"{summary} So the answer is {results[-1][1].strip()}."
        reasoning = _reasoning_text(ctx, "The tool results are in, so I answer from them.")
    else:
        planned = _plan_tool_calls(ctx)
        if planned:
            calls = [
                BrainToolCall(
                    _call_id(ctx, i),
                    str(_tool_function(tool).get("name")),
                    fill_schema(_tool_function(tool).get("parameters") or {}, text) or {},
                )
                for i, (tool, text) in enumerate(planned)
            ]
            names = ", ".join(c.name for c in calls)
            reasoning = _reasoning_text(ctx, f"I should call {names}.")
            if ctx.native and model.tools == "native":
                reply.tool_calls = calls
            else:
                content = "\n".join(
                    "<tool_call>\n"
                    + json.dumps({"name": c.name, "arguments": c.arguments}, ensure_ascii=False)
                    + "\n</tool_call>"
                    for c in calls
                )
        else:
            json_text = _json_answer(ctx)
            content = json_text if json_text is not None else _text_answer(ctx, images)
            plan = "I answer in JSON that matches the schema." if json_text else "I answer briefly."
            reasoning = _reasoning_text(ctx, plan)
    if not _reasoning_enabled(ctx):
        reasoning = ""
    content, reasoning, finish = _apply_limits(ctx, content, reasoning)
    if reply.tool_calls:
        finish = "tool_calls"
    if reasoning and model.reasoning == "inline":
        cut_short = finish == "length" and not content
        closing = "" if cut_short else f"\n</think>\n{content}"
        content, reasoning = f"<think>\n{reasoning}{closing}", ""
    reply.content, reply.reasoning, reply.finish_reason = content, reasoning, finish
    reply.prompt_tokens = sum(count_tokens(text_of(m.get("content"))) + 3 for m in ctx.messages)
    reply.prompt_tokens += count_tokens(json.dumps(request.get("tools") or []))
    reply.completion_tokens = count_tokens(content) + count_tokens(reasoning)
    reply.completion_tokens += sum(count_tokens(c.name + json.dumps(c.arguments)) for c in reply.tool_calls)
    return reply
