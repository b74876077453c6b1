"""Go's behaviour that NFD's output and verdicts depend on, in one place.

NFD is written in Go; to give byte-identical reports and identical verdicts we
reproduce a few pieces of Go's standard library (and of sprig) exactly:

- :mod:`nfd._go.strconv`: ``Quote`` (what ``%q`` prints) and ``Atoi``;
- :mod:`nfd._go.strings`: ``TrimSpace`` and the ``unicode.IsSpace`` set;
- :mod:`nfd._go.json`: ``encoding/json``'s output (HTML escapes, U+2028/9);
- :mod:`nfd._go.template`: ``text/template`` with the sprig functions NFD links,
  under an execution budget.

Everything here is private: the model, the sources and the matching engine use
it; nothing in it knows about NFD's documents.
"""
