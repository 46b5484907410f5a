"""Offline evaluations of the job's privacy and utility claims (optional ``eval`` extra).

``voice_metrics`` holds the pure maths (EER, top-1, WER) and runs without the extra;
``voice`` runs the speaker-verification attacker and the ASR utility check.
"""
