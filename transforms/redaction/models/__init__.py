"""Trained models the redaction stage ships as package data (no code): ``spoken_ner/``, a spaCy pipeline
directory written by ``python -m pipeline train-ner`` (recipe, seed and sizes in its README.md)."""
