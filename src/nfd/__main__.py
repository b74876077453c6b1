"""``python -m nfd``: the same as the ``nfd`` console script."""

from nfd.cli import console

console()
