"""Hermes models on APIpie and AI/ML API: the shared core."""
