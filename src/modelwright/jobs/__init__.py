"""Jobs as the platform shows them: each run of a durable workflow, read and governed.

The engine that runs them is ``modelwright.workflows``; this package is its face for
principals (permissions, audit), behind the ``jobs`` operations.
"""
