"""Versioned datasets: content-addressed bytes in a datastore, with schema and profile.

A version is a file, a directory (stored as a manifest of its files) or a pandas DataFrame
(stored as Parquet), kept once per datastore by the sha256 of its bytes. Tabular versions
carry a schema and a statistical profile, the baseline that monitoring compares against.
"""
