"""A cheap test that a group of regexes cannot match a text: the literal strings every match
of each regex contains, searched in one pass.

Tagging runs the entity rules' regexes (call identifiers, programme and cluster-name shapes,
the word "cluster" in 16 languages) and the programme mask over every row, and most rows
match none of them; a regex that opens with a character class (``[A-Z]...``) is tried at
every position, which made these searches a fifth of the time of a tagged row. Every match
of ``CLUSTER_SHAPES`` contains "Cluster", "Clúster", "Clust-E" or "Pôle"/"Pole", every call
identifier "-19" or "-20", and so on: ``required_literals`` reads such strings off the
compiled pattern itself (its parse tree), so a rule edited later gets a correct guard
without anyone keeping a second list in step. ``Guard.search`` is ``any(p.search(text) for
p in patterns)``, exactly: when none of the required strings is in the text it answers
False at once, otherwise it runs the patterns.

Case-insensitive parts give lower-cased strings, searched in the lower-cased text. That is
only sound where lower-casing keeps every equivalence ``re.IGNORECASE`` makes, so it is done
for ASCII texts only (an ASCII letter matches only its two cases there), and a pattern whose
case-insensitive literal holds a character ``re`` would match to an ASCII letter (the Kelvin
sign to "k", the long s to "s") gets no guard; other texts run the patterns as before.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

try:  # Python 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_ALTERNATIVES = 64  # strings a requirement may list before it is given up as too broad
MAX_RANGE = 40  # a class such as [A-Z0-9+] counts as that many literal characters; [^a-z] or \w does not

_C = sre_constants
_REPEATS = tuple(getattr(_C, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_C, name))
_IGNORECASE = re.IGNORECASE.value

# A requirement: (string, case_insensitive) pairs, one of which every match contains.
Requirement = frozenset


def required_literals(pattern: re.Pattern[str]) -> frozenset[tuple[str, bool]] | None:
    """Strings one of which occurs in every match of ``pattern`` (as ``(string, folded)``:
    ``folded`` strings are lower-cased and to be looked for in the lower-cased text), or None
    when the pattern's shape gives no such set (then it must always be run)."""
    if pattern.flags & (re.VERBOSE | re.LOCALE) or isinstance(pattern.pattern, bytes):
        return None
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # an internal parser that changed shape: no guard, never a wrong one
        return None
    try:
        found = _sequence(list(parsed), bool(pattern.flags & re.IGNORECASE))
    except Exception:  # _Unsafe, or a parse tree of a shape this code does not know: no guard
        return None
    return found if found and all(text for text, _ in found) else None


class _Unsafe(Exception):
    """A case-insensitive literal whose matches lower-casing would not find."""


def _char(code: int, folded: bool) -> str:
    char = chr(code)
    if not folded:
        return char
    if not char.isascii() and re.search(re.escape(char), _ASCII_LETTERS, re.IGNORECASE):
        raise _Unsafe(char)  # e.g. a pattern's Kelvin sign also matches "k" in ASCII text
    lowered = char.lower()
    if len(lowered) != 1:
        raise _Unsafe(char)
    return lowered


_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _fixed(op: Any, av: Any, folded: bool) -> set[str] | None:
    """The strings a fixed-width item matches (a literal, a small class, a group or branch of
    such), or None."""
    if op is _C.LITERAL:
        return {_char(av, folded)}
    if op is _C.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _C.LITERAL:
                chars.add(_char(value, folded))
            elif kind is _C.RANGE and value[1] - value[0] < MAX_RANGE:
                chars.update(_char(c, folded) for c in range(value[0], value[1] + 1))
            else:
                return None
        return chars
    if op is _C.SUBPATTERN:
        _group, add, remove, body = av
        if (add | remove) & _IGNORECASE:
            return None
        return _fixed_sequence(list(body), folded)
    if op is _C.BRANCH:
        strings: set[str] = set()
        for branch in av[1]:
            alternatives = _fixed_sequence(list(branch), folded)
            if alternatives is None:
                return None
            strings |= alternatives
        return strings if len(strings) <= MAX_ALTERNATIVES else None
    return None


def _fixed_sequence(items: list[tuple[Any, Any]], folded: bool) -> set[str] | None:
    strings = {""}
    for op, av in items:
        part = _fixed(op, av, folded)
        if part is None or len(strings) * len(part) > MAX_ALTERNATIVES:
            return None
        strings = {a + b for a in strings for b in part}
    return strings


def _requirement(op: Any, av: Any, folded: bool) -> frozenset[tuple[str, bool]] | None:
    """What any match of one item (not fixed-width) must contain, or None."""
    if op is _C.SUBPATTERN:
        _group, add, remove, body = av
        inner = (folded or bool(add & _IGNORECASE)) and not remove & _IGNORECASE
        return _sequence(list(body), inner)
    if op is _C.BRANCH:
        union: set[tuple[str, bool]] = set()
        for branch in av[1]:
            needed = _sequence(list(branch), folded)
            if not needed or not all(text for text, _ in needed):
                return None
            union |= needed
        return frozenset(union) if len(union) <= 4 * MAX_ALTERNATIVES else None
    if op in _REPEATS:
        low, _high, body = av
        return _sequence(list(body), folded) if low >= 1 else None
    if getattr(_C, "ATOMIC_GROUP", None) is op:
        return _sequence(list(av), folded)
    return None  # assertions, classes, any character, backreferences: nothing required


def _better(a: frozenset[tuple[str, bool]] | None, b: frozenset[tuple[str, bool]] | None) -> frozenset[tuple[str, bool]] | None:
    """The more selective of two requirements (longer shortest string, then fewer strings)."""
    def score(r: frozenset[tuple[str, bool]] | None) -> tuple[int, int]:
        if not r:
            return (0, 0)
        return (min(len(s) for s, _ in r), -len(r))
    return a if score(a) >= score(b) else b


def _sequence(items: list[tuple[Any, Any]], folded: bool) -> frozenset[tuple[str, bool]] | None:
    """A sequence's requirement: the best of its runs of adjacent fixed items (their strings
    concatenated) and of its other items' own requirements."""
    best: frozenset[tuple[str, bool]] | None = None
    run = {""}
    for op, av in items:
        if op in _REPEATS and av[0] >= 1 and (av[0], av[1]) != (1, 1):
            # X{2,}, X+: the first copy of X continues the run, the last one starts the next
            body = _fixed_sequence(list(av[2]), folded)
            if body is not None and len(run) * len(body) <= MAX_ALTERNATIVES:
                best = _better(best, frozenset((a + b, folded) for a in run for b in body))
                run = set(body)
                continue
        part = _fixed(op, av, folded)
        if part is not None and len(run) * len(part) <= MAX_ALTERNATIVES:
            run = {a + b for a in run for b in part}
            continue
        best = _better(best, frozenset((s, folded) for s in run) if run != {""} else None)
        run = set(part) if part is not None else {""}
        if part is None:
            best = _better(best, _requirement(op, av, folded))
    return _better(best, frozenset((s, folded) for s in run) if run != {""} else None)


def literal_regex(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching any of ``words`` as a substring, built as a character trie, so its
    cost does not grow with the number of words the way a flat alternation does."""
    trie: dict[str, Any] = {}
    for word in words:
        if not word:
            continue
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a shorter word ends here: it is enough to find it
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return re.compile(build(trie)) if trie else None


class Guard:
    """``search(text)`` answers ``any(p.search(text) for p in patterns)``, cheaply when the
    text holds none of the strings the patterns require."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]):
        self.patterns = tuple(patterns)
        requirements = [required_literals(p) for p in self.patterns]
        self.unguarded = tuple(p for p, r in zip(self.patterns, requirements) if r is None)
        self.guarded = tuple(p for p, r in zip(self.patterns, requirements) if r is not None)
        needed = [pair for r in requirements if r is not None for pair in r]
        # one pass for the whole group first (most texts stop there), then each pattern's own
        self._exact = literal_regex(s for s, folded in needed if not folded)
        self._folded = literal_regex(s for s, folded in needed if folded)
        self._each = [(p, literal_regex(s for s, folded in r if not folded), literal_regex(s for s, folded in r if folded))
                      for p, r in zip(self.patterns, requirements) if r is not None]

    def possible(self, text: str) -> bool:
        """False only when no pattern can match ``text``."""
        return bool(self.unguarded) or self._guarded_possible(text)

    def _guarded_possible(self, text: str) -> bool:
        if self._exact is not None and self._exact.search(text):
            return True
        if self._folded is None:
            return False
        return not text.isascii() or self._folded.search(text.lower()) is not None

    def search(self, text: str) -> bool:
        if any(p.search(text) for p in self.unguarded):
            return True
        if not self.guarded or not self._guarded_possible(text):
            return False
        ascii_text = text.isascii()
        lowered = text.lower() if ascii_text else ""
        for pattern, exact, folded in self._each:
            if ((exact is not None and exact.search(text))
                    or (folded is not None and (not ascii_text or folded.search(lowered)))):
                if pattern.search(text):
                    return True
        return False
