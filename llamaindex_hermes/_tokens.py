"""The tokenizer hook for LlamaIndex: the core's offline estimate where LlamaIndex asks for a tokenizer.

LlamaIndex counts with `Settings.tokenizer` (prompt helper, text splitters) and `TokenCountingHandler`'s
tokenizer (used when a reply reports no usage); both default to tiktoken's GPT-3.5 encoding, which is the
wrong vocabulary for Hermes and is downloaded on first use (so it fails offline). `hermes_tokenizer` is a
drop-in for both: a callable returning a list whose length is the estimated token count of the Hermes
tokenizers (the pieces are the estimate's cuts of the text, not the model's real tokens).

```python
from llama_index.core import Settings
from llamaindex_hermes import hermes_tokenizer

Settings.tokenizer = hermes_tokenizer
```
"""

from __future__ import annotations

from hermes_gateway import split_text_tokens


def hermes_tokenizer(text: str) -> list[str]:
    """`text` cut into as many pieces as the estimated Hermes token count (see `hermes_gateway._tokens`)."""
    return split_text_tokens(text)
