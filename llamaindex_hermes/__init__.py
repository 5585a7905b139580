"""Hermes for LlamaIndex."""
