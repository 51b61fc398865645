"""The label sets: the three levels of Creating Shared Value (Porter & Kramer 2011) and
their vocabulary, and the two entity labels.

Every file, JSON object and CLI flag uses the stable keys below. The definitions are the
report's own words (section 2 and section 6); the keyword lexicons are written from those
definitions and serve two purposes: the keyword-rule baseline, and lexicon features whose
weights the level model learns (see ``model.py`` and ``features.py``). Every term of every
list here occurs in the report outside its cases (``report_source.text_outside_cases``:
sections 1-4.2 and 6-7, not 4.3 or 5), and a test checks each one: a term seen only in the
cases would let the 27-case figures learn the cases through a list no fold can refit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    import numpy as np


class Level(str, Enum):
    PRODUCTS_MARKETS = "products_markets"
    VALUE_CHAIN = "value_chain"
    CLUSTER_DEVELOPMENT = "cluster_development"


LEVEL_KEYS: tuple[str, ...] = tuple(level.value for level in Level)

UNCERTAIN = "uncertain"

# The entity labels (corpus/ANNOTATION_GUIDELINE.md): cluster organisations and initiatives;
# funding programmes, agencies' programmes and call identifiers.
ENTITY_LABELS: tuple[str, ...] = ("CLUSTER", "PROGRAMME")


def level_matrix(level_lists: Iterable[Sequence[str]]) -> "np.ndarray":
    """(n, 3) 0/1 rows, columns in ``LEVEL_KEYS`` order, from lists of level keys: gold labels
    (a record's ``levels``) and predictions (a result's ``predicted``) alike."""
    import numpy as np

    return np.array([[1 if key in levels else 0 for key in LEVEL_KEYS] for levels in level_lists], dtype=int).reshape(-1, len(LEVEL_KEYS))


@dataclass(frozen=True)
class LevelDefinition:
    key: str
    name: str
    definition: str
    keywords: tuple[str, ...]


DEFINITIONS: dict[str, LevelDefinition] = {
    Level.PRODUCTS_MARKETS.value: LevelDefinition(
        key=Level.PRODUCTS_MARKETS.value,
        name="Reconceiving products and markets",
        definition=(
            "Meeting societal needs through products and addressing unserved or underserved "
            "customers. To promote the innovative solutions, products and services related "
            "with CSV."
        ),
        keywords=(
            "product", "products", "service", "services", "market", "markets", "customers",
            "consumers", "societal needs", "unserved", "underserved", "innovative solutions",
            "new solutions", "solution", "solutions", "health", "demand", "users",
            "technology", "technologies",
        ),
    ),
    Level.VALUE_CHAIN.value: LevelDefinition(
        key=Level.VALUE_CHAIN.value,
        name="Redefining productivity in the value chain",
        definition=(
            "Changing practices in the value chain to drive productivity through better "
            "utilizing resources, employees, and business partners."
        ),
        keywords=(
            "value chain", "supply chain", "productivity", "resources", "resource efficiency",
            "efficiency", "employees", "business partners", "practices", "sustainability",
            "recycling", "energy", "water", "circular economy", "procurement", "logistics",
            "training", "jobs", "business models",
        ),
    ),
    Level.CLUSTER_DEVELOPMENT.value: LevelDefinition(
        key=Level.CLUSTER_DEVELOPMENT.value,
        name="Enabling local cluster development",
        definition=(
            "Improving the available skills, supplier base, and supporting institutions in "
            "the communities where a company operates to boost productivity, innovation, "
            "and growth."
        ),
        keywords=(
            "cluster", "clusters", "cluster development", "cross-sectoral", "skills",
            "supplier base", "suppliers", "supporting institutions", "communities", "community",
            "local", "regional", "smes", "ecosystem", "collaboration", "cooperation", "growth",
            "entrepreneurs",
        ),
    ),
}

# Terms that show a text is about shared value, clusters, firms or public funding at all.
# Counted (``lexicon_counts``) for the evidence a result reports ("domain_terms"); they do not
# gate `uncertain`, which the level thresholds and the relevance model decide (model.py).
# Deliberately specific: words every research abstract uses ("society", "industry",
# "community", "social" alone) say nothing about shared value and are left out.
DOMAIN_KEYWORDS: tuple[str, ...] = (
    "shared value", "cluster", "clusters", "clustering", "smes", "sme",
    "value chain", "value chains", "supply chain", "sustainability", "circular economy",
    "competitiveness", "stakeholders", "social value", "social impact", "social challenges",
    "societal challenges", "regional development", "regional", "jobs", "market", "markets",
    "companies", "enterprises", "business", "business models", "entrepreneurs",
    "entrepreneurship", "cooperation", "partnership", "ecosystem", "municipalities", "sdg",
    "sdgs",
)

_PHRASE_CACHE: dict[tuple[str, ...], re.Pattern[str]] = {}


def keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled, case-insensitive, word-bounded alternation of ``keywords``."""
    pattern = _PHRASE_CACHE.get(keywords)
    if pattern is None:
        alternation = "|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE)
        _PHRASE_CACHE[keywords] = pattern
    return pattern


def keyword_hits(text: str, keywords: tuple[str, ...]) -> list[str]:
    """Every keyword occurrence in ``text`` (lower-cased), in order."""
    return [m.group(0).lower() for m in keyword_pattern(keywords).finditer(text)]


def level_from_phrase(phrase: str) -> list[str]:
    """Map a Table 1 'Level' cell (free text, possibly naming two levels) to level keys."""
    normalised = " ".join(phrase.lower().split())
    found = []
    if "reconceiving products" in normalised:
        found.append(Level.PRODUCTS_MARKETS.value)
    if "redefining productivity" in normalised:
        found.append(Level.VALUE_CHAIN.value)
    if "enabling local cluster" in normalised:
        found.append(Level.CLUSTER_DEVELOPMENT.value)
    if not found:
        from csvnlp.errors import ReportFormatError

        raise ReportFormatError(
            f"no CSV level named in the Table 1 level cell {phrase!r}; it must name 'Reconceiving products', "
            "'Redefining productivity' and/or 'Enabling local cluster' (fix corpus/table1.csv)"
        )
    return [key for key in LEVEL_KEYS if key in found]


# One pass over a text for every lexicon at once: the classifier needs each level's hits and
# the distinct domain terms of thousands of texts per second (tagging), and one compiled
# alternation over lower-cased text is several times faster than four case-insensitive ones.
_LEXICONS: dict[str, tuple[str, ...]] = {key: DEFINITIONS[key].keywords for key in LEVEL_KEYS} | {"domain": DOMAIN_KEYWORDS}
_TERM_OWNERS: dict[str, tuple[str, ...]] = {}
for _name, _terms in _LEXICONS.items():
    for _term in _terms:
        _TERM_OWNERS[_term.lower()] = _TERM_OWNERS.get(_term.lower(), ()) + (_name,)


def _longest_first_trie(words: Sequence[str]) -> str:
    """A regex alternation of ``words`` as a character trie that tries longer words first: it
    matches what the flat alternation of the words sorted longest first matches (a test
    checks), without trying every word at every word start (twice as fast on real rows)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body  # greedy: the longer word first, then this one

    return build(trie)


_ALL_TERMS = re.compile(r"(?<![\w-])(?:" + _longest_first_trie(list(_TERM_OWNERS)) + r")(?![\w-])")


# per term, the index of each level whose lexicon has it (twice if listed twice), and the domain terms
_TERM_LEVELS = {term: tuple(LEVEL_KEYS.index(o) for o in owners if o != "domain") for term, owners in _TERM_OWNERS.items()}
_DOMAIN_TERMS = frozenset(term for term, owners in _TERM_OWNERS.items() if "domain" in owners)


def lexicon_counts(text: str) -> tuple[list[int], int]:
    """(hits per level in ``LEVEL_KEYS`` order, number of distinct domain terms)."""
    hits = [0] * len(LEVEL_KEYS)
    domain: set[str] = set()
    for term in _ALL_TERMS.findall(text.lower()):  # the whole match: the pattern has no group
        for j in _TERM_LEVELS[term]:
            hits[j] += 1
        if term in _DOMAIN_TERMS:
            domain.add(term)
    return hits, len(domain)
