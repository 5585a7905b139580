"""ChatHermes for LangChain."""
