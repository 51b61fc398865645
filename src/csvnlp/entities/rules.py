"""Rules for names never seen in training: call identifiers, programme-name and cluster-name
shapes, "Cluster partners:" lists, and organisation names under guideline 6.1.

Everything here works on characters (``re``), not tokens, so the same rules run at training
time (to learn how reliable each kind is) and inside the spaCy component.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from csvnlp.levels import ENTITY_LABELS  # noqa: F401  (re-exported: the label set is defined once)
from csvnlp.regex_guard import Guard


# A capitalised word inside a name (letters, digits, &, apostrophes, dots and dashes allowed).
_CAP = r"[A-ZÀ-Þ][\w&’'.\-]*"
_CONNECT = r"(?:de|del|della|di|da|do|des|du|d’|of|for|and|in|y|e|et|&)"
_NAME_TAIL = rf"(?:\s+(?:{_CAP}|{_CONNECT}))*(?:\s+[–-]\s+[A-Z][A-Z0-9]+)?"
# Field labels that follow "Cluster" in a case text ("Cluster Partners: ...") are no names.
_NOT_A_NAME = r"(?!(?:Partners?|Participants?|Project|Members?)\b)"

# A call or topic identifier opens with an upper-case code ("H2020", "HORIZON", "COS", "LIFE"),
# so a prize title's "Award-2015" or a fragment "-Start-2016" is none.
# It ends at its last letter or digit: a trailing dash ("...-01-02-") or mojibake glued to it
# ("2020â€™", read as letters by ``\w``) is no part of it (issue 17; the identifiers are ASCII).
CALL_IDENTIFIER = re.compile(
    r"(?<![\w-])[A-Z][A-Z0-9]+(?:-[A-Za-z0-9]+)*-(?:19|20)\d\d(?:-[A-Za-z0-9]+)*(?![A-Za-z0-9_]|-[A-Za-z0-9])"
)
# Words that make "... Programme" generic, not a name: the guideline's generic phrases ("the
# Programme", "this programme", "the Work Programme") and the other words a programme's
# description opens with ("the Operational Programme", "the Framework Programme").
GENERIC_PROGRAMME_WORDS = frozenset({
    "The", "This", "That", "These", "Its", "Their", "Our", "Each", "Every", "Any", "Work", "Operational",
    "Framework", "Annual", "Multiannual", "Specific", "Main", "Research", "Innovation", "Programme",
    # "the Grant Scheme", "This Aid Scheme": the kind of scheme, not its name (0 of 14 marked in the
    # first fresh split and the training records)
    "Grant", "Aid",
})
PROGRAMME_NAMES = re.compile(
    r"(?<![\w-])(?:"
    # first, so "ERDF Operational Programme" is one name, not "ERDF" and a generic tail
    # a named programme or scheme (guideline 6.2: "Business Growth Programme", "Isles of Scilly
    # Voucher Scheme"), with the programming period some names open with ("2014-20 ESF Programme")
    # (on one line: a name never runs over a line break)
    r"(?:(?:19|20)\d\d[-–/](?:19|20)?\d\d[ \t]+)?(?:{cap}[ \t]+)(?:(?:{cap}|and|for|of|&)[ \t]+){{0,5}}(?:Programme|Programm|Program|Scheme)|"
    r"Horizon\s+(?:2020|Europe)|H2020|FP[4-9]|COSME|INNOSUP(?:-\d+)?|"
    r"(?:INTERREG|Interreg)(?:\s+(?:MED|Med|SUDOE|Sudoe|Europe|EUROPE|IV[ABC]?|V[ABC]?|"
    r"Atlantic Area|Alpine Space|North Sea|Baltic Sea Region|Central Europe|Danube|ADRION|"
    r"NEXT MED|Euro-MED|Euro-Med|POCTEFA|MAC|ALCOTRA))?(?:\s+Programme)?|"
    r"Erasmus\+|LIFE|PRIMA|ERDF|ESF\+?|EAFRD|EMFF|EMFAF|Cohesion\s+Fund|"
    r"European\s+Regional\s+Development\s+Fund|European\s+Social\s+Fund(?:\s+Plus)?|"
    r"Marie\s+Sk[łl]odowska-Curie\s+Actions?|MSCA|ERC|EIC\s+(?:Accelerator|Pathfinder|Transition)|"
    r"SME\s+Instrument|Digital\s+Europe(?:\s+Programme)?|Creative\s+Europe|Eurostars|EUREKA|"
    # no funding agencies (VINNOVA, Innosuisse, Innovate UK): guideline 6.2 says a body that gives
    # money is an organisation, not a PROGRAMME
    r"Single\s+Market\s+Programme"
    r")(?![\w+-])".format(cap=_CAP)
)
# "the co-programmed European Partnership on Batteries", "European Partnership for Innovation in
# Photovoltaics": guideline 6.2 (real-2.1) marks a European Partnership as PROGRAMME, written out
# like this as well as by its short name. The name runs over capitalised words, connectors and
# lower-case field words ("on photonics") up to punctuation, a bracket or a line break; "the
# European Partnership for this topic" is none (issue 17, first fresh split, now development data).
EUROPEAN_PARTNERSHIP = re.compile(
    r"(?<![\w-])European\s+Partnership\s+(?:on|for)\s+(?!(?:this|that|these|the\s+(?:topic|call)|which|its|their|each|a|an)\b)"
    r"(?:the\s+)?[A-Za-z0-9][\w-]*(?:[ \t]+(?:[A-Z0-9][\w-]*|and|in|of|for|on|the|[a-z]+(?=[ \t]*(?:[(\[.,;:]|$))))*",
    re.MULTILINE,
)
_PARTNERSHIP_TAIL = re.compile(r"(?:[ \t]+(?:and|in|of|for|on|the))+$")
# "See definition in the Glossary section of the NEB part of the HE WP26-27": call topics cite
# the Horizon Europe work programme as "HE WP"; guideline 6.2 marks a programme's name as written,
# abbreviation included. Only before "WP": elsewhere "HE" is as often higher education.
HORIZON_EUROPE_WP = re.compile(r"(?<![\w-])HE(?=[ \t]+WP[ \t]?\d)")
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

SHAPE_PATTERNS = (CALL_IDENTIFIER, PROGRAMME_NAMES, CLUSTER_SHAPES, PARTNER_LIST, EUROPEAN_PARTNERSHIP, HORIZON_EUROPE_WP)
_CLUSTER_SHAPES_GUARD = Guard([CLUSTER_SHAPES])  # the strings every cluster shape holds (lean tagging, issue 20)


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


def _programme_name(text: str, start: int, end: int, named_after: bool = False) -> tuple[int, int] | None:
    """A "... Programme" match without its generic opening words; None when only generic
    words are left ("the Work Programme", "the Operational Programme", "This Aid Scheme"), unless
    ``named_after``: a name follows ("Grant Scheme for Child Care Facilities")."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if words[-1].group() not in ("Programme", "Programm", "Program", "Scheme"):
        return start, end
    if len(words) > 1 and words[-2].group() == "Work":
        return None  # "Horizon Europe Work Programme", "CBE JU Annual Work Programme": a document, not a programme
    if len(words) > 1 and words[-2].group() in COURSE_WORDS:
        return None  # "Web Design Training Programme", "Structured PhD Programme": a course, not a funding programme
    first = 0
    leading = _SENTENCE_WORDS if named_after else GENERIC_PROGRAMME_WORDS | {"and", "for", "of", "&"}
    while first < len(words) - 1 and words[first].group() in leading:
        first += 1
    if not named_after and all(w.group() in GENERIC_PROGRAMME_WORDS | {"and", "for", "of", "&"} for w in words[first:-1]):
        return None
    return start + words[first].start(), end


# "Grant Scheme for Sustainable Tourism Projects by Enterprises", "ERDF Grant Scheme for Childcare
# Facilities": a scheme's name goes on after "for" in capitalised words (Maltese ERDF aid schemes
# in the first fresh split, now development data; a "... Programme for ..." there is mostly a
# course for its audience, so only schemes).
_SENTENCE_WORDS = frozenset({"The", "This", "That", "These", "Its", "Their", "Our", "Each", "Every", "Any"})
SCHEME_FOR = re.compile(r"[ \t]+for[ \t]+[A-Z][\w-]*(?:[ \t]+(?:[A-Z][\w-]*|and|of|by|the|&))*")
_CONNECTOR_TAIL = re.compile(r"(?:[ \t]+(?:and|of|by|the|&))+$")


# Guideline section 6: a PROGRAMME is a funding programme, instrument, fund or scheme. A
# "... Programme" whose last word before it says it is a course of training or study ("On Line
# Marketing Training Programme", "Mentoring Programme", "Structured PhD Programme", "Graduate
# Programme") is what the operation teaches, not what funds it. (Issue 17: the Irish ERDF list of
# County Enterprise Board courses in the first fresh split, now development data.) A registry
# name ("Euratom Research and Training Programme") is found by the registry, not by this rule.
COURSE_WORDS = frozenset({"Training", "Mentoring", "PhD", "Graduate", "Course"})

# "Horizon Europe Cluster 4", "Cluster 5": parts of a work programme, not cluster organisations.
_WORK_PROGRAMME_CLUSTER = re.compile(r"Horizon|Europe\s+Cl[uú]ster$")
# "European Structural and Investment Funds (ESIF)": the abbreviation a text defines for a name.
DEFINED_ABBREVIATION = re.compile(r"\s*\(([A-Z][A-Za-z0-9+&-]{1,11})\)")


# ---------------------------------------------------------------------------- organisation names
# A funding database's beneficiary or participant list gives one organisation's name per row,
# in its own language. The guideline (corpus/LABELLING_GUIDELINE.md, section 6.1) says when such
# a name is a CLUSTER and which part is the span; these lists are that rule written down:
# "cluster" in each official EU language (a dictionary fact; French and Portuguese also name
# the policy instrument "competitiveness pole"), the legal-form words 6.1 leaves out of a span,
# and the company forms and other bodies 6.1 says are no cluster.
CLUSTER_WORDS = (
    "cluster", "clusters", "clusterul", "clúster", "clústeres", "klaster", "klastr", "klaszter",
    "klasteris", "klasteri", "klusteri", "kluster", "klynge", "grozd", "клъстер", "σύμπλεγμα",
)
COMPETITIVENESS_POLE = re.compile(r"p[oô]les?\s+de\s+comp[ée]titi\w*|polos?\s+de\s+competitividade", re.IGNORECASE)
LEGAL_FORM_WORDS = (
    "association", "associação", "associacao", "asociación", "asociacion", "asociacija", "сдружение", "egyesület",
    "mittetulundusühing", "z.s.", "z. s.", "z.s", "družstvo", "udruga", "związek pracodawców",
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


# What ``_has_cluster_word`` looks for (the tagging prefilter guards these same patterns).
CLUSTER_WORD_PATTERNS = (_CLUSTER_WORD, COMPETITIVENESS_POLE)


def _has_cluster_word(text: str) -> bool:
    return any(pattern.search(text) for pattern in CLUSTER_WORD_PATTERNS)


# Rule kinds the guideline itself decides, which the training annotations cannot switch off:
# real-2.1 (section 6.2) marks named programmes and schemes that real-1 records often left out.
GUIDELINE_KINDS = frozenset({"named_programme", "european_partnership", "horizon_europe_wp"})
RULE_KINDS = ("call_identifier", "programme_name", "named_programme", "european_partnership", "horizon_europe_wp",
              "defined_abbreviation", "organisation_name", "cluster_shape", "partner_list")


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
        tail = SCHEME_FOR.match(text, match.end()) if match.group().endswith("Scheme") else None
        named = _programme_name(text, match.start(), match.end(), named_after=tail is not None)
        if named and tail:
            named = (named[0], match.end() + len(_CONNECTOR_TAIL.sub("", tail.group())))
        if named:
            kind = "named_programme" if re.search(r"(?:Program+e?|Scheme)$", match.group()) else "programme_name"
            programmes.append((*named, kind))
    for match in EUROPEAN_PARTNERSHIP.finditer(text):
        tail = _PARTNERSHIP_TAIL.search(match.group())
        programmes.append((match.start(), match.end() - (len(tail.group()) if tail else 0), "european_partnership"))
    programmes.extend((*m.span(), "horizon_europe_wp") for m in HORIZON_EUROPE_WP.finditer(text))
    for start, end, _ in list(programmes):
        defined = DEFINED_ABBREVIATION.match(text, end)
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
    # (most texts hold no "Cluster", "Clust-ER" or "Pôle": regex_guard answers that first)
    for match in CLUSTER_SHAPES.finditer(text) if _CLUSTER_SHAPES_GUARD.possible(text) else ():
        trimmed = _trim(text, match.start(), match.end())
        if not trimmed or _WORK_PROGRAMME_CLUSTER.search(text[trimmed[0]:trimmed[1]]):
            continue
        if re.match(r"\s*\d", text[trimmed[1]:]):  # "Cluster 4" of a work programme
            continue
        yield trimmed[0], trimmed[1], "CLUSTER", "cluster_shape"
    for start, end, label in partner_list_matches(text):
        yield start, end, label, "partner_list"
