"""Compliance spot-check: listen to and look at a random sample of what reviewers get.

In:  a finished run's output directory — reviewer shards, ``run_report.json`` and counts of the
     quarantine and escalation outputs; never the manifest or the raw clips.
Out: one self-contained HTML file (audio and plots embedded as ``data:`` URIs, one inline script
     allowed by its hash, a Content-Security-Policy that blocks every network load) in which a
     checker gives verdicts and exports them (:func:`build.spot_check`); then ``signoff.json``,
     restricted findings and an audit line from those verdicts (:func:`signoff.sign_off`).
Fails: :class:`source.SpotCheckError` when the directory holds no reviewer shards;
     :class:`signoff.SignoffError` for a verdict file that does not belong to the run.

Modules: ``sampling`` (stratified draw), ``claims`` (sample size for a leak-rate claim and the
bounds), ``source`` (reading the run), ``plots`` (matplotlib), ``markup`` (transcript
highlighting), ``build`` (assembly + ``template.html.j2``), ``verdicts`` (verdict kinds and the
exported file), ``signoff`` (checking a verdict file against its run and recording the result).
"""
