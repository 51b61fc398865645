"""``regex_guard``: the strings a regex's every match contains, and a guard that answers exactly
``any(p.search(text) for p in patterns)``."""

from __future__ import annotations

import random
import re

import pytest

from csvnlp.entities.rules import CALL_IDENTIFIER, CLUSTER_SHAPES, CLUSTER_WORD_PATTERNS, SHAPE_PATTERNS
from csvnlp.features import _PROGRAMME_MASK
from csvnlp.regex_guard import Guard, literal_regex, required_literals

GUARDED = (*SHAPE_PATTERNS, *CLUSTER_WORD_PATTERNS, _PROGRAMME_MASK)
# texts that try the guard's edges: case, folding characters outside ASCII, names glued to text
EDGES = [
    "", "cluster", "CLUSTER", "ClUsTeR partners: A, B", "the Basque Environment Cluster", "Clúster de la Energía",
    "\u212aluster", "klaſter", "KLASTER", "Cluſter", "Pôle Mer Méditerranée", "pole de competitivite", "PÔLES DE COMPÉTITIVITÉ",
    "H2020-SMEINST-1-2015", "COS-CLUSTER-2015-3-02", "INNOSUP-01-2018-2020", "innosup", "Horizon 2020", "horizon\u00a02020",
    "Cluster partners:\nA; B", "clusters participants: X", "σύμπλεγμα", "ΣΎΜΠΛΕΓΜΑ", "КЛЪСТЕР", "grozd", "GROZD",
    "Business Growth Programme", "ERDF", "Erasmus+", "FP7", "a-b-c", "A-B-C", "X-2020", "LIFE17 ENV/IT/000123",
]


def _texts(records) -> list[str]:
    return [r["text"] for r in records] + EDGES


def test_regex_guard_reads_required_strings_off_the_patterns():
    assert required_literals(CALL_IDENTIFIER) == frozenset({("-19", False), ("-20", False)})
    assert {("Cluster", False), ("Clúster", False), ("Pôle", False)} <= required_literals(CLUSTER_SHAPES)
    assert required_literals(re.compile(r"(?i)abc|\d+")) is None  # one branch requires nothing
    assert required_literals(re.compile(r"(?i)abc|x\d")) == frozenset({("abc", True), ("x", True)})
    assert required_literals(re.compile(r"\w+")) is None
    assert required_literals(re.compile(r"(?i)foo(?-i:Bar)")) in ({("foo", True)}, {("Bar", False)})
    # a case-insensitive Kelvin sign also matches "k": lower-casing would not find it, so no guard
    assert required_literals(re.compile("\u212aluster", re.IGNORECASE)) is None
    assert required_literals(re.compile("\u212aluster")) == frozenset({("\u212aluster", False)})


@pytest.mark.parametrize("pattern", GUARDED, ids=lambda p: p.pattern[:30])
def test_regex_guard_every_match_holds_a_required_string(pattern, records):
    required = required_literals(pattern)
    assert required, "each pattern the prefilter guards has a requirement"
    for text in _texts(records):
        for match in pattern.finditer(text):
            found = match.group(0)
            # folded strings are looked for in ASCII texts only (lower-casing keeps re's case rules there)
            assert any((s in found.lower() if text.isascii() else True) if folded else (s in found)
                       for s, folded in required), (found, required)


def test_regex_guard_answers_like_running_every_pattern(records):
    rng = random.Random(7)
    guard = Guard(GUARDED)
    pieces = [s for r in (required_literals(p) for p in GUARDED) for s, _ in r] + ["Cluster", "-2015-", "Programme", "  ", "\n"]
    texts = _texts(records)
    # fragments of the required strings in random case, glued to words: near misses and hits
    for _ in range(3000):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 4))] + [rng.choice(["the", "A", "ſ", "\u212a", "é"])]
        rng.shuffle(words)
        text = rng.choice([" ", "", "-"]).join(words)
        texts.append("".join(c.upper() if rng.random() < 0.2 else c for c in text))
    for text in texts:
        assert guard.search(text) == any(p.search(text) for p in GUARDED), text
    for pattern in GUARDED:
        single = Guard([pattern])
        assert [single.search(t) for t in texts] == [pattern.search(t) is not None for t in texts]


def test_regex_guard_without_requirement_always_runs_the_pattern():
    guard = Guard([re.compile(r"\d{4}"), re.compile("Cluster")])
    assert guard.unguarded and guard.possible("no digits here") and guard.search("in 2020") and not guard.search("nothing")


def test_regex_guard_literal_regex_finds_any_word():
    regex = literal_regex(["Program", "Programme", "ERC", "EIC Accelerator"])
    assert regex.search("the EIC Accelerator") and regex.search("a Programm") and regex.search("xERCx")
    assert not regex.search("Progra EIC") and literal_regex([]) is None
