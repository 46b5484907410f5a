"""The shared vocabulary every stage and the job speak: records, failures, keys, schema, the stage base.

Imports run one way: ``pipeline`` (the job) → ``transforms`` (stages) → ``transforms.core``. Nothing
here imports a stage or the job (``make lint`` checks this with import-linter).
"""
