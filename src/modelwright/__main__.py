"""``python -m modelwright`` is the ``modelwright`` command."""

from modelwright.cli import main

main()
