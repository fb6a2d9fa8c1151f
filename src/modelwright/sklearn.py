"""``mw.sklearn.autolog()``: autologging for scikit-learn (see ``modelwright.autologging.sklearn``)."""

from __future__ import annotations

from modelwright.autologging.sklearn import autolog

__all__ = ["autolog"]
