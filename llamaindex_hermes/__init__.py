"""Hermes for LlamaIndex: `Hermes`, a `FunctionCallingLLM` on the shared `hermes_gateway` client.

```python
from llamaindex_hermes import Hermes

llm = Hermes(model="hermes-3-llama-3.1-70b", gateway="apipie")  # key from APIPIE_API_KEY
print(llm.complete("Say hello").text)
```
"""

from __future__ import annotations

from llamaindex_hermes._convert import INVALID_ARGUMENTS_KEY
from llamaindex_hermes._tokens import hermes_tokenizer
from llamaindex_hermes.base import DEFAULT_CONTEXT_WINDOW, GATEWAYS, Hermes
from llamaindex_hermes.embedding import EmbeddingUsageEvent, GatewayEmbedding

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "GATEWAYS",
    "INVALID_ARGUMENTS_KEY",
    "EmbeddingUsageEvent",
    "GatewayEmbedding",
    "Hermes",
    "hermes_tokenizer",
]
