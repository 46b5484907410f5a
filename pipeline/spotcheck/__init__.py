"""Compliance spot-check: listen to and look at a random sample of what reviewers get.

In:  a finished run's output directory — reviewer shards, ``run_report.json`` and counts of the
     quarantine and escalation outputs; never the manifest or the raw clips.
Out: one self-contained HTML file (audio and plots embedded as ``data:`` URIs, no script, a
     Content-Security-Policy that blocks every network load). See :func:`build.spot_check`.
Fails: :class:`source.SpotCheckError` when the directory holds no reviewer shards.

Modules: ``sampling`` (stratified draw), ``source`` (reading the run), ``plots`` (matplotlib),
``markup`` (transcript highlighting), ``build`` (assembly + ``template.html.j2``).
"""
