"""Monitors: an endpoint's captured traffic compared with a baseline dataset version, its
serving statistics read, over a sliding window, each evaluation stored as a time series.

``models`` holds the requests and responses, ``service`` the operations and the steps of the
``monitor.run`` workflow (``tasks._monitor``), ``signals`` and ``capture`` the computations
the workflow's child process makes (pure pandas over ``modelwright.monitoring``).
"""
