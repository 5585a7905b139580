"""`with_structured_output` for ChatHermes: tool calling, JSON mode and JSON schema, read leniently.

Function calling binds the schema as the one forced tool (natively or through the Hermes prompt, the core
decides). The JSON methods bind `response_format` *and* the schema under `hermes_json_schema`, which
`ChatHermes._prepare` sends as the request's `json_schema`: the core then decides per route (so the same on
every gateway and under failover) to send `response_format`, the Hermes `<schema>` system prompt, or both,
so that the schema always reaches the model. Either way the reply is read by parsers that accept what
Hermes models actually write: fenced JSON, JSON after a sentence or a `<think>` block, JSON followed by a
remark (`hermes_gateway.extract_json`), streamed incrementally.
"""

from __future__ import annotations

import re
import warnings
from json import JSONDecodeError
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.runnables import RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.json import parse_json_markdown, parse_partial_json
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic.v1 import BaseModel as BaseModelV1

from hermes_gateway import extract_json

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput
    from langchain_core.outputs import Generation
    from langchain_core.runnables import Runnable

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL)
_JSON_START = re.compile(r"[{\[]")


def lenient_json(text: str, *, partial: bool) -> Any:
    """The JSON in a reply. Partial: the object so far, or None. Complete: the value, else
    OutputParserException."""
    text = text.strip()
    try:
        return parse_json_markdown(text)
    except (JSONDecodeError, ValueError):
        pass
    body = _THINK.sub("", text)
    if partial:
        match = _JSON_START.search(body)
        if match is not None:
            try:
                value = parse_partial_json(body[match.start() :])
            except (JSONDecodeError, ValueError):
                value = None
            if value is not None:
                return value
    try:
        return extract_json(text)
    except ValueError as exc:
        if partial:
            return None
        raise OutputParserException(str(exc), llm_output=text) from exc


class HermesJsonOutputParser(JsonOutputParser):
    """`JsonOutputParser` that also finds JSON wrapped in prose or reasoning (see `lenient_json`)."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return lenient_json(result[0].text, partial=partial)


class HermesPydanticOutputParser(PydanticOutputParser):  # type: ignore[type-arg]  # generic over the schema
    """`PydanticOutputParser` reading JSON leniently; partial objects that do not validate yet give None."""

    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        try:
            value = lenient_json(result[0].text, partial=partial)
            if value is None:
                return None
            return self._parse_obj(value)
        except OutputParserException:
            if partial:
                return None
            raise


def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def _schema_for_prompt(schema: dict[str, Any] | type) -> tuple[str, str | None, dict[str, Any]]:
    """(name, description, JSON schema of the parameters) for any schema LangChain accepts."""
    function = convert_to_openai_tool(schema)["function"]
    return function["name"], function.get("description"), function.get("parameters", {})


def build_structured_output(
    llm: BaseChatModel,
    schema: dict[str, Any] | type | None,
    *,
    method: Literal["function_calling", "json_mode", "json_schema"] = "function_calling",
    include_raw: bool = False,
    strict: bool | None = None,
    **kwargs: Any,
) -> Runnable[LanguageModelInput, Any]:
    """The structured-output runnable for `llm` (a ChatHermes); see the module docstring."""
    if method not in ("function_calling", "json_mode", "json_schema"):
        raise ValueError(f"method must be 'function_calling', 'json_mode' or 'json_schema', not {method!r}")
    if strict is not None and method == "json_mode":
        raise ValueError("strict= is not supported with method='json_mode'")
    if schema is None and method != "json_mode":
        raise ValueError(f"method={method!r} needs a schema")
    is_pydantic = _is_pydantic_class(schema)
    if method == "json_schema" and is_pydantic and issubclass(schema, BaseModelV1):  # type: ignore[arg-type]
        warnings.warn(
            "pydantic v1 models are not supported by method='json_schema'; using method='function_calling'",
            stacklevel=3,
        )
        method = "function_calling"

    output_parser: Runnable[Any, Any]
    if method == "function_calling":
        assert schema is not None  # checked above
        name = convert_to_openai_tool(schema)["function"]["name"]
        bound = llm.bind_tools(
            [schema],
            tool_choice=name,
            strict=strict,
            ls_structured_output_format={"kwargs": {"method": method, "strict": strict}, "schema": schema},
            **kwargs,
        )
        output_parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
            if is_pydantic
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    else:
        bind_kwargs: dict[str, Any] = {}
        if schema is None:
            prompt_schema: dict[str, Any] = {"type": "object"}
            response_format: dict[str, Any] = {"type": "json_object"}
        else:
            name, description, parameters = _schema_for_prompt(schema)
            prompt_schema = {
                "title": name,
                **({"description": description} if description else {}),
                **parameters,
            }
            if method == "json_mode":
                response_format = {"type": "json_object"}
            else:
                strict_params = convert_to_openai_tool(schema, strict=strict)["function"].get(
                    "parameters", {}
                )
                json_schema: dict[str, Any] = {"name": name, "schema": strict_params}
                if description:
                    json_schema["description"] = description
                if strict is not None:
                    json_schema["strict"] = strict
                response_format = {"type": "json_schema", "json_schema": json_schema}
            bind_kwargs["ls_structured_output_format"] = {
                "kwargs": {"method": method}
                if method == "json_mode"
                else {"method": method, "strict": strict},
                "schema": schema,
            }
        bound = llm.bind(
            response_format=response_format, hermes_json_schema=prompt_schema, **bind_kwargs, **kwargs
        )
        output_parser = (
            HermesPydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            if is_pydantic
            else HermesJsonOutputParser()
        )

    if include_raw:
        parser_assign = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | output_parser, parsing_error=lambda _: None
        )
        parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
        parser_with_fallback = parser_assign.with_fallbacks([parser_none], exception_key="parsing_error")
        return RunnableMap(raw=bound) | parser_with_fallback
    return bound | output_parser
