"""One module per pipeline stage; each exposes one composite PTransform."""
