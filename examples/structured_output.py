"""Structured output: a pydantic object straight from a Hermes model.

    python examples/structured_output.py

`with_structured_output(Schema)` works on every gateway: where `response_format` is not available (APIpie)
the schema goes into the Hermes `<schema>` JSON-mode system prompt and the JSON is pulled out of the reply;
`include_raw=True` also returns the raw message and any parsing error instead of raising.
"""

from __future__ import annotations

from _replay import replaying
from pydantic import BaseModel, Field

from langchain_hermes import ChatHermes


class City(BaseModel):
    """Facts about a city."""

    name: str = Field(description="The city's name")
    country: str = Field(description="The country it is in")
    population_millions: float = Field(description="Population in millions")


def main() -> None:
    llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="apipie", temperature=0)
    structured = llm.with_structured_output(City)
    city = structured.invoke("Tell me about Paris, the capital of France.")
    assert isinstance(city, City)
    print("parsed:", repr(city))
    print("json:  ", city.model_dump_json())

    with_raw = llm.with_structured_output(City, include_raw=True).invoke("Tell me about Tokyo in Japan.")
    assert isinstance(with_raw, dict)
    print("parsed (include_raw):", with_raw["parsed"])
    print("parsing_error:", with_raw["parsing_error"])


if __name__ == "__main__":
    with replaying("structured_output", gateways=("apipie",)):
        main()
