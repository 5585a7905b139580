"""Token counting for ChatHermes: the core's offline estimate in LangChain's three counting methods.

LangChain's defaults count with a GPT-2 tokenizer from `transformers` (an ImportError without it, and the
wrong vocabulary with it). ChatHermes counts with `hermes_gateway.count_text_tokens` /
`count_message_tokens` instead: an estimate of the Hermes (Llama 3 / Mistral) tokenizers that needs nothing
installed and nothing downloaded. A user who has an exact tokenizer passes `custom_get_token_ids=` and every
method then counts with it, as in any LangChain model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.utils.function_calling import convert_to_openai_tool

import hermes_gateway as hg

from ._convert import messages_to_wire

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_core.messages import BaseMessage

NO_TOKEN_IDS = (
    "ChatHermes has no token ids: the Hermes tokenizers are not shipped, so it counts tokens with an offline "
    "estimate (get_num_tokens, get_num_tokens_from_messages, trim_messages(token_counter=llm)). For ids, "
    "pass custom_get_token_ids= a function from a tokenizer you have locally."
)


def count_messages(messages: Sequence[BaseMessage], tools: Sequence[Any] | None) -> int:
    """The estimated prompt tokens of LangChain messages (and tools, in any form `bind_tools` takes)."""
    formatted = [convert_to_openai_tool(tool) for tool in tools] if tools else None
    return hg.count_message_tokens(messages_to_wire(messages), formatted)
