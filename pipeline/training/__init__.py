"""Offline training of the redaction stage's statistical recogniser (``python -m pipeline train-ner``).

``spoken_ner`` builds the training data and trains the spoken-text NER model shipped in
``transforms/redaction/models/spoken_ner/``; ``evaluate_spoken`` measures rules, model and both on the
multi-locale spoken set, per split, entity type, place kind and locale group, by characters and words.
"""
