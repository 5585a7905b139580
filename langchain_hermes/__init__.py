"""ChatHermes for LangChain: Nous Research Hermes models on APIpie, AI/ML API or a local OpenAI-compatible
server.

```python
from langchain_hermes import ChatHermes, get_hermes_usage_callback

llm = ChatHermes(model="hermes-3-llama-3.1-70b", gateway="aimlapi")
with get_hermes_usage_callback() as cb:
    llm.invoke("Hello")
print(cb.total_cost)
```
"""

from langchain_hermes._usage_callback import HermesUsageCallbackHandler, ModelUsage, get_hermes_usage_callback
from langchain_hermes.chat_models import ChatHermes
from langchain_hermes.embeddings import GatewayEmbeddings

__all__ = [
    "ChatHermes",
    "GatewayEmbeddings",
    "HermesUsageCallbackHandler",
    "ModelUsage",
    "get_hermes_usage_callback",
]
