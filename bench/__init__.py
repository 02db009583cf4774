"""Benchmarks: LEAR against a BIO tagger and an MRC (one pass per label) baseline. See bench/README.md."""
