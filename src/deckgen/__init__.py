"""deckgen: an LLM interview guide kept as YAML, built into an Anki deck and a cheat sheet."""

__version__ = "0.1.0"
