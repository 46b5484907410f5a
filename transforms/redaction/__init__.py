"""PII redaction for spoken-form transcripts: spoken-form normaliser, recognizers, operators, engine."""
