"""Stored objects (run artifacts, model files, dataset bytes): who may put and get them where.

Bytes never travel through the JSON operations. A client puts an object into a store first,
then names it by digest in an operation (``log_artifacts``, ``register_dataset``), which
checks that it is there.
"""
