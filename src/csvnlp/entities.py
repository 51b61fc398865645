"""The spaCy pipeline that finds CLUSTER and PROGRAMME names.

Built on ``spacy.blank("en")`` (no downloaded model), with one component,
``csvnlp_names``, that finds

1. phrases learned from the annotated spans of the training corpus (case-sensitive, so
   "Systematic" the cluster does not match "systematic" the adjective);
2. general patterns for names never seen in training: call
   identifiers (``COS-CLUSTER-2015-3-02``, ``HORIZON-CL6-2021-...``), programme names
   (Horizon 2020, COSME, INNOSUP, INTERREG MED, Erasmus+, ERDF, ...) and the shapes of cluster
   names ("... Cluster", "Cluster ...", "... Clust-ER", "... Partnership", "Pôle ...").

Where two candidates overlap the longer wins, so a learned "Interreg MED Programme" beats
the shape "Interreg MED".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, filter_spans

from csvnlp.levels import ENTITY_LABELS

NAMES_COMPONENT = "csvnlp_names"

# A capitalised word inside a name (letters, digits, &, apostrophes, dots and dashes allowed).
_CAP = r"[A-ZÀ-Þ][\w&’'.\-]*"
_CONNECT = r"(?:de|del|della|di|da|do|des|du|d’|of|for|and|in|y|e|et|&)"
_NAME_TAIL = rf"(?:\s+(?:{_CAP}|{_CONNECT}))*(?:\s+[–-]\s+[A-Z][A-Z0-9]+)?"
# Field labels that follow "Cluster" in a case text ("Cluster Partners: ...") are no names.
_NOT_A_NAME = r"(?!(?:Partners?|Participants?|Project|Members?)\b)"

# A call or topic identifier opens with an upper-case code ("H2020", "HORIZON", "COS", "LIFE"),
# so a prize title's "Award-2015" or a fragment "-Start-2016" is none.
CALL_IDENTIFIER = re.compile(
    r"(?<![\w-])[A-Z][A-Z0-9]+(?:-[A-Za-z0-9]+)*-(?:19|20)\d\d(?:-[A-Za-z0-9]+)*(?![\w-])"
)
# Words that make "... Programme" generic, not a name: the guideline's generic phrases ("the
# Programme", "this programme", "the Work Programme") and the other words a programme's
# description opens with ("the Operational Programme", "the Framework Programme").
GENERIC_PROGRAMME_WORDS = frozenset({
    "The", "This", "That", "These", "Its", "Their", "Our", "Each", "Every", "Any", "Work", "Operational",
    "Framework", "Annual", "Multiannual", "Specific", "Main", "Research", "Innovation", "Programme",
})
PROGRAMME_NAMES = re.compile(
    r"(?<![\w-])(?:"
    # first, so "ERDF Operational Programme" is one name, not "ERDF" and a generic tail
    r"(?:{cap}\s+)(?:(?:{cap}|and|for|of|&)\s+){{0,5}}(?:Programme|Programm|Program)|"
    r"Horizon\s+(?:2020|Europe)|H2020|FP[4-9]|COSME|INNOSUP(?:-\d+)?|"
    r"(?:INTERREG|Interreg)(?:\s+(?:MED|Med|SUDOE|Sudoe|Europe|EUROPE|IV[ABC]?|V[ABC]?|"
    r"Atlantic Area|Alpine Space|North Sea|Baltic Sea Region|Central Europe|Danube|ADRION|"
    r"NEXT MED|Euro-MED|Euro-Med|POCTEFA|MAC|ALCOTRA))?(?:\s+Programme)?|"
    r"Erasmus\+|LIFE|PRIMA|ERDF|ESF\+?|EAFRD|EMFF|EMFAF|Cohesion\s+Fund|"
    r"European\s+Regional\s+Development\s+Fund|European\s+Social\s+Fund(?:\s+Plus)?|"
    r"Marie\s+Sk[łl]odowska-Curie\s+Actions?|MSCA|ERC|EIC\s+(?:Accelerator|Pathfinder|Transition)|"
    r"SME\s+Instrument|Digital\s+Europe(?:\s+Programme)?|Creative\s+Europe|Eurostars|EUREKA|"
    r"Single\s+Market\s+Programme|VINNOVA|Vinnova|Innosuisse|Innovate\s+UK"
    r")(?![\w+-])".format(cap=_CAP)
)
CLUSTER_SHAPES = re.compile(
    "|".join(
        [
            rf"(?:{_CAP}\s+){{1,5}}Cl[uú]ster(?![\w-])",  # "SCC Cluster", "Basque Environment Cluster"
            rf"Cl[uú]ster(?:ul)?\s+{_NOT_A_NAME}{_CAP}{_NAME_TAIL}",  # "Cluster TIC SANTE Nouvelle-Aquitaine"
            rf"{_CAP}(?:\s+(?:{_CAP}|{_CONNECT}|&;?)){{0,4}}\s+Clust-E[Rr](?![\w-])",  # "Energy & Environment Clust-ER"
            rf"Clust-E[Rr]\s+{_CAP}{_NAME_TAIL}",  # "Clust-ER Agroalimentare"
            # No "... Partnership" shape: it fired on Local Enterprise Partnerships and research
            # partnerships; a partnership that is a cluster ("Catalan Water Partnership") is
            # learned from the annotated spans instead.
            rf"P[ôo]le\s+{_CAP}{_NAME_TAIL}",  # "Pôle Mer Méditerranée"
        ]
    )
)
# Words that open a sentence rather than a name ("The Cluster ...", "This Partnership").
_LEADING_NOISE = {
    "The", "This", "That", "These", "Those", "A", "An", "Each", "Every", "Our", "Their", "Its",
    "In", "With", "For", "By", "As", "At", "On", "From", "And", "Of", "To", "All", "Both",
    "European", "New", "Strategic", "Regional", "National", "Local",
}
_TRAILING_NOISE = {w.strip("()") for w in _CONNECT.strip("(?:)").split("|")} | {"Cluster", "Clúster"}


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop sentence-opening words before a name and connectors after it."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if not words:
        return None
    first, last = 0, len(words) - 1
    core = {"Cluster", "Clúster", "Clust-ER", "Clust-Er", "Partnership"}
    while first < last and words[first].group() in _LEADING_NOISE:
        first += 1
    while last > first and words[last].group() in _TRAILING_NOISE - core and words[first].group() in core:
        last -= 1
    new_start, new_end = start + words[first].start(), start + words[last].end()
    # a sentence's full stop is not part of the name (an abbreviation like "Mar.In.E.M." is)
    if text[new_end - 1] in ".," and text[new_start:new_end].count(".") == 1:
        new_end -= 1
    if text[new_start:new_end] in core | {"Pôle", "Pole"}:
        return None
    return new_start, new_end


# "Cluster partners: A (ES), B and C (FR)": every name in such a list is a cluster, whatever its
# shape ("Solartys", "Vegepolys"). Submissions and case write-ups use this field often.
PARTNER_LIST = re.compile(
    r"(?im)^[ \t]*(?:cluster partners?|clusters? partners?|clusters participants|"
    r"clusters as participants in the project|participating clusters)[ \t]*:[ \t]*(?P<list>.+)$"
)
_LIST_SEPARATORS_STRONG = re.compile(r"(?<!&);")  # "Energy &; Environment" is one name
_LIST_SEPARATORS = re.compile(r",|\band\b")
_NAME_CONNECTORS = {"de", "del", "della", "di", "da", "do", "des", "du", "of", "for", "and", "in", "per", "la", "le", "y", "e", "et", "z", "&", "&;", "-", "–"}
_ROLE_SUFFIX = re.compile(r"\s+as\s+(?:coordinator|leader|lead partner|partner)\s*$", re.I)

SHAPE_PATTERNS = (CALL_IDENTIFIER, PROGRAMME_NAMES, CLUSTER_SHAPES, PARTNER_LIST)


def partner_list_matches(text: str) -> Iterator[tuple[int, int, str]]:
    """Names listed after a "Cluster partners:" label, as character spans."""
    for match in PARTNER_LIST.finditer(text):
        start, end = match.span("list")
        segment = text[start:end]
        sentence_end = re.search(r"\.\s+(?=[A-Z])|\.\s*$", segment)
        if sentence_end:
            segment = segment[: sentence_end.start()]
        if ": " in segment:  # "seven clusters ... of this solution: A; B; C"
            cut = segment.rindex(": ") + 2
            start, segment = start + cut, segment[cut:]
        if not segment[:1].isupper():  # "clusters from Denmark, ...", "no formal cluster ...": no names
            continue
        # blank out "(Spain)"-style brackets, keeping offsets
        work = re.sub(r"\([^()]*\)", lambda m: " " * len(m.group(0)), segment)
        splitter = _LIST_SEPARATORS_STRONG if _LIST_SEPARATORS_STRONG.search(work) else _LIST_SEPARATORS
        at = 0
        for piece in [*splitter.finditer(work), None]:
            stop = piece.start() if piece else len(work)
            name = _clean_listed_name(work, at, stop)
            if name:
                yield start + name[0], start + name[1], "CLUSTER"
            at = piece.end() if piece else len(work)


def _clean_listed_name(work: str, begin: int, end: int) -> tuple[int, int] | None:
    words = [m for m in re.finditer(r"\S+", work[begin:end])]
    while words and not words[0].group()[0].isupper():  # "coordinated by Vegepolys"
        words.pop(0)
    if not words:
        return None
    start, stop = begin + words[0].start(), begin + words[-1].end()
    role = _ROLE_SUFFIX.search(work[start:stop])
    if role:
        stop = start + role.start()
    name = work[start:stop].rstrip(" .,")
    tokens = name.split()
    if len(tokens) > 1 and tokens[-1] in ("cluster", "clusters") and tokens[-2][0].isupper():
        name = name[: name.rindex(" ")]  # "Framtidens Bioraffinaderi cluster": the name is before
        tokens = tokens[:-1]
    lowercase = [t for t in tokens if t[0].islower() and t not in _NAME_CONNECTORS]
    if not tokens or len(tokens) > 8 or len(lowercase) > 3:
        return None
    return start, start + len(name)


def _programme_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A "... Programme" match without its generic opening words; None when only generic
    words are left ("the Work Programme", "the Operational Programme")."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if words[-1].group() not in ("Programme", "Programm", "Program"):
        return start, end
    first = 0
    while first < len(words) - 1 and words[first].group() in GENERIC_PROGRAMME_WORDS | {"and", "for", "of", "&"}:
        first += 1
    if all(w.group() in GENERIC_PROGRAMME_WORDS | {"and", "for", "of", "&"} for w in words[first:-1]):
        return None
    return start + words[first].start(), end


# "Horizon Europe Cluster 4", "Cluster 5": parts of a work programme, not cluster organisations.
_WORK_PROGRAMME_CLUSTER = re.compile(r"Horizon|Europe\s+Cl[uú]ster$")
# "European Structural and Investment Funds (ESIF)": the abbreviation a text defines for a name.
_DEFINED_ABBREVIATION = re.compile(r"\s*\(([A-Z][A-Za-z0-9+&-]{1,11})\)")


# ---------------------------------------------------------------------------- organisation names
# A funding database's beneficiary or participant list gives one organisation's name per row,
# in its own language. The guideline (corpus/LABELLING_GUIDELINE.md, section 6.1) says when such
# a name is a CLUSTER and which part is the span; these lists are that rule written down:
# "cluster" in each official EU language (a dictionary fact; French and Portuguese also name
# the policy instrument "competitiveness pole"), the legal-form words 6.1 leaves out of a span,
# and the company forms and other bodies 6.1 says are no cluster.
CLUSTER_WORDS = (
    "cluster", "clusters", "clusterul", "clúster", "clústeres", "klaster", "klastry", "klastr", "klaszter",
    "klasteris", "klasteri", "klusteri", "kluster", "klynge", "grozd", "клъстер", "σύμπλεγμα",
)
COMPETITIVENESS_POLE = re.compile(r"p[oô]les?\s+de\s+comp[ée]titi\w*|polos?\s+de\s+competitividade", re.IGNORECASE)
LEGAL_FORM_WORDS = (
    "association", "associação", "associacao", "asociación", "asociacion", "asociacija", "сдружение", "egyesület",
    "mittetulundusühing", "z.s.", "z. s.", "z.s", "družstvo", "udruga", "związek pracodawców", "zwiazek pracodawcow",
)
COMPANY_FORMS = ("ltd", "limited", "ood", "оод", "eood", "еоод", "d.o.o.", "s.r.o.", "sp. z o.o.", "gmbh", "s.a.", "spa", "plc")
NOT_CLUSTER_BODIES = re.compile(r"institut|universit|research|hospital|school|monaster", re.IGNORECASE)
_CLUSTER_WORD = re.compile(r"(?<!\w)(?:" + "|".join(CLUSTER_WORDS) + r")(?!\w)", re.IGNORECASE)
_QUOTES = "\"'“”„«»‘’"
_ARTICLES = {"du", "de", "des", "do", "da", "of", "the"}


def is_name_like(text: str) -> bool:
    """One line of at most 16 words that is no sentence and no labelled list: a listed
    organisation name. A sentence ends in a full stop, "!" or "?" (a name may end in "z.s." or
    "d.o.o.", dots inside a word)."""
    words = text.split()
    if "\n" in text.strip() or not words or len(words) > 16 or re.search(r"[a-z]{2}\.\s+[A-Z]|:\s", text):
        return False  # "Participating clusters: A; B" is a labelled list, not a name
    last = words[-1]
    return not (last[-1] in ".!?" and "." not in last[:-1])


def organisation_cluster_span(text: str) -> tuple[int, int] | None:
    """The CLUSTER span of a listed organisation name under guideline 6.1, or None."""
    if not (_CLUSTER_WORD.search(text) or COMPETITIVENESS_POLE.search(text)) or NOT_CLUSTER_BODIES.search(text):
        return None
    start, end = 0, len(text.rstrip())
    while start < end and text[start].isspace():
        start += 1
    lowered = text.casefold()
    if any(re.search(rf"(?<!\w){re.escape(form)}\W*$", lowered[start:end]) for form in COMPANY_FORMS):
        return None
    cut = re.search(r"\s+c/o\s", text[start:end], re.IGNORECASE)
    if cut:
        end = start + cut.start()
    dash = re.search(r"\s+[-–]\s+", text[start:end])
    if dash and not _has_cluster_word(text[start + dash.end():end]):
        end = start + dash.start()  # "- гр. ПЛОВДИВ": a place after the name
    changed = True
    while changed and start < end:
        changed = False
        piece = text[start:end].strip(" ,;")
        start, end = start + text[start:end].index(piece), start + text[start:end].index(piece) + len(piece)
        low = piece.casefold()
        for word in sorted(LEGAL_FORM_WORDS, key=len, reverse=True):
            if low.startswith(word + " ") and _has_cluster_word(piece[len(word):]):
                rest = piece[len(word):].lstrip()
                first = rest.split(maxsplit=1)[0].casefold() if rest else ""
                if first in _ARTICLES and len(rest.split()) > 1:
                    rest = rest.split(maxsplit=1)[1]
                start = end - len(rest)
                changed = True
                break
            if low.endswith(" " + word) or low.endswith(", " + word) or low == word:
                end = start + len(piece) - len(word)
                changed = True
                break
        piece = text[start:end]
        if len(piece) > 1 and piece[0] in _QUOTES and piece[-1] in _QUOTES and piece.count(piece[0]) <= 2:
            start, end = start + 1, end - 1
            changed = True
    if start >= end or not _has_cluster_word(text[start:end]):
        return None
    return start, end


def _has_cluster_word(text: str) -> bool:
    return bool(_CLUSTER_WORD.search(text) or COMPETITIVENESS_POLE.search(text))


RULE_KINDS = ("call_identifier", "programme_name", "named_programme", "defined_abbreviation", "organisation_name",
              "cluster_shape", "partner_list")


def shape_matches(text: str, disabled: Iterable[str] = ()) -> Iterator[tuple[int, int, str]]:
    """Character spans of call identifiers, programme names and cluster-name shapes."""
    off = set(disabled)
    for start, end, label, kind in shape_matches_by_kind(text):
        if kind not in off:
            yield start, end, label


def shape_matches_by_kind(text: str) -> Iterator[tuple[int, int, str, str]]:
    """``shape_matches`` with the kind of rule that found each span (one of RULE_KINDS)."""
    programmes = [(*m.span(), "call_identifier") for m in CALL_IDENTIFIER.finditer(text)]
    for match in PROGRAMME_NAMES.finditer(text):
        named = _programme_name(text, match.start(), match.end())
        if named:
            kind = "named_programme" if re.search(r"Program+e?$", match.group()) else "programme_name"
            programmes.append((*named, kind))
    for start, end, _ in list(programmes):
        defined = _DEFINED_ABBREVIATION.match(text, end)
        if defined:  # every use of the abbreviation the text defines for a programme name
            programmes.extend((*m.span(), "defined_abbreviation")
                              for m in re.finditer(rf"(?<![\w-]){re.escape(defined.group(1))}(?![\w-])", text))
    seen = set()
    for start, end, kind in programmes:
        if (start, end) not in seen:
            seen.add((start, end))
            yield start, end, "PROGRAMME", kind
    if is_name_like(text):
        named = organisation_cluster_span(text)
        if named:
            yield named[0], named[1], "CLUSTER", "organisation_name"
            return
    for match in CLUSTER_SHAPES.finditer(text):
        trimmed = _trim(text, match.start(), match.end())
        if not trimmed or _WORK_PROGRAMME_CLUSTER.search(text[trimmed[0]:trimmed[1]]):
            continue
        if re.match(r"\s*\d", text[trimmed[1]:]):  # "Cluster 4" of a work programme
            continue
        yield trimmed[0], trimmed[1], "CLUSTER", "cluster_shape"
    for start, end, label in partner_list_matches(text):
        yield start, end, label, "partner_list"


# A rule kind, or a name as found, is switched off when the training records' annotations agree
# with it less than half the time, over at least this many hits (the training records are the
# only records this looks at: learned inside the training part, like the recognizer).
MIN_HITS_RULE, MIN_HITS_NAME, MIN_PRECISION = 10, 3, 0.5


def learn_rule_reliability(nlp: Language, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Precision of each rule kind and of each name found, on the training records; the kinds
    and names below MIN_PRECISION are returned to be switched off."""
    from collections import Counter

    finder = nlp.get_pipe(NAMES_COMPONENT)
    kind_found: Counter[str] = Counter()
    kind_right: Counter[str] = Counter()
    name_found: Counter[tuple[str, str]] = Counter()
    name_right: Counter[tuple[str, str]] = Counter()
    for record in records:
        text = tokenizable(record["text"])
        gold = {(e["start"], e["end"], e["label"]) for e in record.get("entities") or []}
        for start, end, label, kind in shape_matches_by_kind(text):
            kind_found[kind] += 1
            kind_right[kind] += (start, end, label) in gold
        doc = nlp.make_doc(text)
        for span in finder.rule_spans(doc):  # type: ignore[attr-defined]
            key = (span.label_, span.text)
            name_found[key] += 1
            name_right[key] += (span.start_char, span.end_char, span.label_) in gold
    disabled = sorted(k for k, n in kind_found.items() if n >= MIN_HITS_RULE and kind_right[k] / n < MIN_PRECISION)
    tails = learn_programme_tails(nlp, records, disabled)
    stoplist = sorted([label, name] for (label, name), n in name_found.items()
                      if n >= MIN_HITS_NAME and name_right[(label, name)] / n < MIN_PRECISION)
    return {"disabled_rules": disabled, "stoplist": stoplist, "tails": tails,
            "rule_precision": {k: round(kind_right[k] / n, 3) for k, n in sorted(kind_found.items())}}


def learn_programme_tails(nlp: Language, records: Sequence[dict[str, Any]], disabled: Sequence[str]) -> list[str]:
    """Words the annotations add after a programme name the rules find ("Horizon 2020" +
    " programme", "ERC" + " Advanced Grant"): the guideline marks the longest name. A tail is
    kept when it occurs at least MIN_HITS_NAME - 1 times and extending by it matches the
    annotations at least MIN_PRECISION of the times it applies, on the training records."""
    from collections import Counter

    finder = nlp.get_pipe(NAMES_COMPONENT)
    seen: Counter[str] = Counter()
    docs = []
    for record in records:
        text = tokenizable(record["text"])
        spans = [s for s in finder.rule_spans(nlp.make_doc(text), disabled=disabled) if s.label_ == "PROGRAMME"]  # type: ignore[attr-defined]
        gold = [(e["start"], e["end"]) for e in record.get("entities") or [] if e["label"] == "PROGRAMME"]
        docs.append((text, spans, set(gold)))
        for start, end in gold:
            inside = [s for s in spans if start == s.start_char and s.end_char < end]
            if len(inside) == 1 and len(text[inside[0].end_char:end].split()) <= 4:
                seen[text[inside[0].end_char:end]] += 1
    kept = []
    for tail, count in seen.items():
        if count < MIN_HITS_NAME - 1:
            continue
        applied = right = 0
        for text, spans, gold in docs:
            for span in spans:
                if text.startswith(tail, span.end_char) and not text[span.end_char + len(tail):span.end_char + len(tail) + 1].isalnum():
                    applied += 1
                    right += (span.start_char, span.end_char + len(tail)) in gold
        if applied and right / applied >= MIN_PRECISION:
            kept.append(tail)
    return sorted(kept, key=len, reverse=True)


class NameFinder:
    """One spaCy component: learned phrases (PhraseMatcher on exact text) plus name shapes.

    Overlaps go to the longer span; on equal spans a learned phrase wins. ``doc.ents`` is set
    only when something is found, because reading or setting it walks every token, which
    was a third of the tagging time on texts with no names (most of a funding database).
    """

    def __init__(self, nlp: Language, name: str = NAMES_COMPONENT):
        self.name = name
        self.vocab = nlp.vocab
        self.patterns: list[dict[str, str]] = []
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self._tokenizer = nlp.tokenizer
        self._prefilter: re.Pattern[str] | None = None
        # How rule spans and the trained recognizer's spans (doc.ents set by the "ner" before
        # this component) combine, per label; chosen on held-out training records at train time.
        self.policy: dict[str, str] = {label: "rules" for label in ENTITY_LABELS}
        self.triggers: list[str] = []
        self._triggers: re.Pattern[str] | None = None
        self.disabled_rules: list[str] = []
        self.stoplist: set[tuple[str, str]] = set()
        self.tails: list[str] = []

    def set_reliability(self, disabled_rules: Iterable[str], stoplist: Iterable[Sequence[str]], tails: Iterable[str] = ()) -> None:
        """Switch off rule kinds and names the training annotations disagree with, and extend
        programme names by the tails they add (see ``learn_rule_reliability``)."""
        self.disabled_rules = sorted(set(disabled_rules) & set(RULE_KINDS))
        self.stoplist = {(label, name) for label, name in stoplist}
        self.tails = sorted(set(tails), key=len, reverse=True)

    def set_policy(self, policy: dict[str, str]) -> None:
        unknown = {v for v in policy.values()} - set(MERGE_POLICIES)
        if unknown or set(policy) != set(ENTITY_LABELS):
            raise ValueError(f"an entity policy maps {ENTITY_LABELS} to one of {MERGE_POLICIES}, not {policy}")
        self.policy = dict(policy)

    def set_triggers(self, words: Iterable[str]) -> None:
        from csvnlp.recognizer import trigger_regex

        self.triggers = sorted(set(words))
        self._triggers = trigger_regex(self.triggers)

    def add_patterns(self, patterns: Iterable[dict[str, str]]) -> None:
        for pattern in patterns:
            self.patterns.append(dict(pattern))
            self.matcher.add(pattern["label"], [self._tokenizer(pattern["pattern"])])
        # The PhraseMatcher matches a phrase's tokens consecutively, and consecutive tokens are
        # separated in the text by one space or by nothing ("Plásticos-AVEP" is three tokens, as
        # is "Plásticos - AVEP"). So a text it matches contains the phrase's tokens in order with
        # only white space, or none, between them: this regex, a superset test that needs no
        # tokenizing. (Splitting the phrase on its own spaces instead missed other spellings.)
        phrases = sorted({p["pattern"] for p in self.patterns}, key=len, reverse=True)
        self._prefilter = (
            re.compile("|".join(r"\s*".join(re.escape(token.text) for token in self._tokenizer(phrase)) for phrase in phrases))
            if phrases else None
        )

    def may_find_names(self, text: str) -> bool:
        """False only when this component would certainly find nothing in ``text``."""
        if self._prefilter is not None and self._prefilter.search(text):
            return True
        if self._triggers is not None and self._triggers.search(text):
            return True
        return any(pattern.search(text) for pattern in SHAPE_PATTERNS) or _has_cluster_word(text)

    def rule_spans(self, doc: Doc, disabled: Sequence[str] | None = None) -> list[Span]:
        text = doc.text
        spans = [Span(doc, start, end, label=match_id) for match_id, start, end in self.matcher(doc)]
        for start, end, label in shape_matches(text, self.disabled_rules if disabled is None else disabled):
            span = doc.char_span(start, end, label=label, alignment_mode="contract")
            if span is not None and len(span):
                spans.append(span)
        for span in list(spans):
            if span.label_ != "PROGRAMME":
                continue
            for tail in self.tails:
                end = span.end_char + len(tail)
                if text.startswith(tail, span.end_char) and not text[end:end + 1].isalnum():
                    longer = doc.char_span(span.start_char, end, label="PROGRAMME", alignment_mode="contract")
                    if longer is not None:
                        spans.append(longer)
                    break
        return spans

    def __call__(self, doc: Doc) -> Doc:
        # The recognizer's spans matter only when the policy uses them; reading doc.ents walks
        # every token, so a rules-only pipeline never does (the tagging hot path).
        uses_model = any(how != "rules" for how in self.policy.values())
        model = list(doc.ents) if uses_model and doc.has_annotation("ENT_IOB") else []
        spans = merge_spans(self.rule_spans(doc), model, self.policy)
        if self.stoplist:
            spans = [span for span in spans if (span.label_, span.text) not in self.stoplist]
        if spans or model:
            doc.ents = spans
        doc.user_data[NAMES_COMPONENT] = [_entity(span) for span in spans]
        return doc


MERGE_POLICIES = ("rules", "model", "rules_first", "model_first")


def merge_spans(rules: Sequence[Span], model: Sequence[Span], policy: dict[str, str]) -> list[Span]:
    """Per label: only the rules' spans, only the model's, or both with one side winning
    where they overlap; then the longest of any overlapping spans left."""
    chosen: list[Span] = []
    for label in ENTITY_LABELS:
        mine = [s for s in rules if s.label_ == label]
        theirs = [s for s in model if s.label_ == label]
        how = policy.get(label, "rules")
        if how == "rules":
            chosen += mine
        elif how == "model":
            chosen += theirs
        else:
            first, second = (mine, theirs) if how == "rules_first" else (theirs, mine)
            first_all = rules if how == "rules_first" else model
            chosen += first + [s for s in second if not any(s.start < o.end and o.start < s.end for o in first_all)]
    return filter_spans(chosen)


@Language.factory(NAMES_COMPONENT)
def make_name_finder(nlp: Language, name: str) -> NameFinder:
    return NameFinder(nlp, name)


def blank_pipeline() -> Language:
    """``spacy.blank("en")`` whose tokenizer also splits "AVEP(Spain" at the bracket."""
    nlp = spacy.blank("en")
    # Funding databases glue names to what follows: "SERV-01-01[9]", "Horizon 2020.The",
    # "CLIMA-02.All", mojibake "2020â€™". Without these splits a name's last token swallows the
    # rest and a span can only end a token early ("HORIZON-INFRA-2023-SERV-01-").
    infixes = list(nlp.Defaults.infixes) + [
        r"(?<=[A-Za-z])\((?=[A-Za-z])", r"[\[\]]", r"(?<=[0-9A-Za-z])\.(?=[A-Z][a-z])", r"â€.?",
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def learned_patterns(records: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Phrase patterns from the records' annotated spans (one per distinct text and label),
    each with the record it was first learned from: the gazetteer of names seen in training."""
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        for entity in record.get("entities") or []:
            phrase = record["text"][entity["start"] : entity["end"]]
            seen.setdefault((entity["label"], phrase), _record_source(record))
    return [{"label": label, "pattern": phrase, "source": source} for (label, phrase), source in sorted(seen.items())]


def _record_source(record: dict[str, Any]) -> str:
    if record.get("source_file"):
        return f"{record['source_file']} {record['row_key']['column']}={record['row_key']['value']}"
    return f"corpus record {record.get('id', '?')}"


def build_entity_pipeline(records: Iterable[dict[str, Any]], gazetteer: Sequence[dict[str, str]] = ()) -> Language:
    """Rules only: a pipeline whose learned phrases come only from ``records`` (the training
    fold), plus the gazetteer entries."""
    nlp = blank_pipeline()
    finder = nlp.add_pipe(NAMES_COMPONENT)
    finder.add_patterns(list(learned_patterns(records)) + list(gazetteer))  # type: ignore[attr-defined]
    return nlp


DEV_SHARE = 0.2


def _in_dev(record: dict[str, Any], seed: int) -> bool:
    import hashlib

    digest = hashlib.sha256(f"{seed}:{record.get('id')}:{record['text'][:200]}".encode()).hexdigest()
    return int(digest[:8], 16) / 0xFFFFFFFF < DEV_SHARE


def train_entity_pipeline(records: Sequence[dict[str, Any]], seed: int, gazetteer: Sequence[dict[str, str]] = (),
                          progress: Any = None) -> tuple[Language, dict[str, Any]]:
    """Rules, learned phrases, gazetteer and a trained ``ner``, combined per label as measured.

    A seeded DEV_SHARE of ``records`` is held out; the recognizer is trained on the rest and
    each way of combining rule and model spans (``MERGE_POLICIES``) is scored by exact F1 per
    label on the held-out part; the best per label is kept (ties go to the simpler rules).
    Then everything is refitted on all ``records``. Returns the pipeline and what was measured.
    """
    from csvnlp.metrics import entity_scores
    from csvnlp.recognizer import train_recognizer, trigger_words

    fit = [r for r in records if not _in_dev(r, seed)]
    dev = [r for r in records if _in_dev(r, seed)]
    scores: dict[str, dict[str, float]] = {}
    policy = {label: "rules" for label in ENTITY_LABELS}
    if dev and any(r.get("entities") for r in fit):
        nlp = build_entity_pipeline(fit, gazetteer)
        reliability = learn_rule_reliability(nlp, fit)
        finder = nlp.get_pipe(NAMES_COMPONENT)
        finder.set_reliability(reliability["disabled_rules"], reliability["stoplist"], reliability["tails"])  # type: ignore[attr-defined]
        train_recognizer(nlp, fit, seed, progress=progress)
        gold = [{(e["start"], e["end"], e["label"]) for e in r.get("entities") or []} for r in dev]
        rule_found, model_found = [], []
        with nlp.select_pipes(disable=[NAMES_COMPONENT]):
            for doc in nlp.pipe(tokenizable(r["text"]) for r in dev):
                rule_found.append(finder.rule_spans(doc))  # type: ignore[attr-defined]
                model_found.append(list(doc.ents))
        stop = finder.stoplist  # type: ignore[attr-defined]
        for how in MERGE_POLICIES:
            found = [{(s.start_char, s.end_char, s.label_) for s in merge_spans(a, b, {label: how for label in ENTITY_LABELS})
                      if (s.label_, s.text) not in stop} for a, b in zip(rule_found, model_found)]
            exact = entity_scores(gold, found)["exact"]
            scores[how] = {label: round(exact[label]["f1"], 4) for label in ENTITY_LABELS}
        for label in ENTITY_LABELS:
            policy[label] = max(MERGE_POLICIES, key=lambda how: (scores[how][label], -MERGE_POLICIES.index(how)))
    nlp = build_entity_pipeline(records, gazetteer)
    reliability = learn_rule_reliability(nlp, records)
    finder = nlp.get_pipe(NAMES_COMPONENT)
    finder.set_reliability(reliability["disabled_rules"], reliability["stoplist"], reliability["tails"])  # type: ignore[attr-defined]
    if policy != {label: "rules" for label in ENTITY_LABELS}:
        train_recognizer(nlp, records, seed, progress=progress)
        finder.set_triggers(trigger_words(records))  # type: ignore[attr-defined]
    finder.set_policy(policy)  # type: ignore[attr-defined]
    info = {"policy": policy, "dev_records": len(dev), "dev_exact_f1": scores,
            "dev_gold": {label: sum(e["label"] == label for r in dev for e in r.get("entities") or []) for label in ENTITY_LABELS},
            "recognizer": "ner" in nlp.pipe_names, "triggers": len(finder.triggers),  # type: ignore[attr-defined]
            "disabled_rules": reliability["disabled_rules"], "stoplist": len(reliability["stoplist"]), "tails": reliability["tails"],
            "rule_precision_on_training": reliability["rule_precision"]}
    return nlp, info


def pipeline_patterns(nlp: Language) -> list[dict[str, str]]:
    """The learned phrase patterns of a pipeline: all a saved entity pipeline needs."""
    return list(nlp.get_pipe(NAMES_COMPONENT).patterns)  # type: ignore[attr-defined]


SETTINGS_FILE = "entity_pipeline.json"
RECOGNIZER_DIR = "recognizer"


def save_entity_pipeline(nlp: Language, directory: Path, patterns_file: str) -> None:
    """Patterns (one JSON object a line), the merge policy and trigger words (JSON) and, when
    trained, the recognizer's weights: plain data, loading runs no code."""
    from csvnlp.recognizer import save_recognizer

    lines = [json.dumps(p, ensure_ascii=False, sort_keys=True) for p in pipeline_patterns(nlp)]
    (directory / patterns_file).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    finder = nlp.get_pipe(NAMES_COMPONENT)
    settings = {"policy": finder.policy, "triggers": finder.triggers, "recognizer": "ner" in nlp.pipe_names,  # type: ignore[attr-defined]
                "disabled_rules": finder.disabled_rules, "stoplist": sorted(finder.stoplist), "tails": finder.tails}  # type: ignore[attr-defined]
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if "ner" in nlp.pipe_names:
        save_recognizer(nlp, directory / RECOGNIZER_DIR)


def load_entity_pipeline(directory: Path, patterns_file: str) -> Language:
    """Rebuild the pipeline from ``blank_pipeline``, the saved patterns, settings and weights;
    raise ValueError on a line that is not a {"label", "pattern"} object. A model saved before
    the recognizer existed (no settings file) loads as rules only."""
    from csvnlp.recognizer import load_recognizer

    path = directory / patterns_file
    patterns = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        pattern = json.loads(line)
        if not (isinstance(pattern, dict) and isinstance(pattern.get("label"), str) and isinstance(pattern.get("pattern"), str)):
            raise ValueError(f"{path.name} line {number} is not a {{'label', 'pattern'}} object")
        patterns.append({k: pattern[k] for k in ("label", "pattern", "source") if isinstance(pattern.get(k), str)})
    nlp = blank_pipeline()
    settings_path = directory / SETTINGS_FILE
    settings = json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.exists() else {}
    if settings.get("recognizer"):
        load_recognizer(nlp, directory / RECOGNIZER_DIR)
    finder = nlp.add_pipe(NAMES_COMPONENT)
    finder.add_patterns(patterns)  # type: ignore[attr-defined]
    if settings:
        finder.set_policy(settings["policy"])  # type: ignore[attr-defined]
        finder.set_triggers(settings.get("triggers", []))  # type: ignore[attr-defined]
        finder.set_reliability(settings.get("disabled_rules", []), settings.get("stoplist", []), settings.get("tails", []))  # type: ignore[attr-defined]
    return nlp


def doc_entities(doc: Doc) -> list[dict[str, Any]]:
    found = doc.user_data.get(NAMES_COMPONENT)
    return list(found) if found is not None else [_entity(span) for span in doc.ents]


def _entity(span: Span) -> dict[str, Any]:
    return {"text": span.text, "label": span.label_, "start": span.start_char, "end": span.end_char}


# spaCy's tokenizer takes time quadratic in the length of a run without white space (prefixes
# and suffixes are peeled off one at a time): 2,000 commas take 0.9 s, 8,000 take 10 s, and a
# 200,000-character run would stall a batch for hours. Runs longer than this get a space every
# MAX_RUN characters before tokenizing (same length, so offsets still point into the text).
MAX_RUN = 200
_LONG_RUN = re.compile(r"\S{%d,}" % (MAX_RUN + 1))


def tokenizable(text: str) -> str:
    """``text`` with every run of more than MAX_RUN non-space characters broken by a space every
    MAX_RUN characters; the same length, so character offsets are unchanged."""
    if not _LONG_RUN.search(text):
        return text

    def cut(match: re.Match[str]) -> str:
        run = match.group(0)
        return "".join(" " if (i + 1) % (MAX_RUN + 1) == 0 else ch for i, ch in enumerate(run))

    return _LONG_RUN.sub(cut, text)


def extract_entities(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> Iterator[list[dict[str, Any]]]:
    """Entities of each text, as plain dicts with character offsets into the input.

    Texts in which no learned phrase and no name shape can occur skip the spaCy pipeline
    (most rows of a funding database name no cluster or programme); the others run through
    it in full, so the result is the same as running every text.
    """
    finder = nlp.get_pipe(NAMES_COMPONENT) if NAMES_COMPONENT in nlp.pipe_names else None
    safe = [tokenizable(text) for text in texts]  # the prefilter sees what the pipeline sees
    candidates = [i for i, text in enumerate(safe) if finder is None or finder.may_find_names(text)]
    docs = nlp.pipe((safe[i] for i in candidates), batch_size=batch_size)
    found = dict(zip(candidates, (doc_entities(doc) for doc in docs)))
    for i in range(len(texts)):
        entities = found.get(i, [])
        if safe[i] is not texts[i]:  # names are quoted from the text as given
            entities = [{**e, "text": texts[i][e["start"] : e["end"]]} for e in entities]
        yield entities
