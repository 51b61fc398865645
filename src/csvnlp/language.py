"""Which language a text is in, and keeping texts the model cannot read away from it.

The detector is py3langid (BSD-3-Clause, a maintained fork of langid.py): its naive-Bayes
model ships inside the pip package (``py3langid/data/model.npz.xz``), so nothing is
downloaded at run time, it loads in ~0.6 s and classifies ~20,000 short names a second in
one process. lingua-language-detector was more accurate on single words but needs ~0.7 GB of
memory per process and is ~60x slower; langdetect is unmaintained since 2021 and random
unless seeded.

Candidates are limited to the languages of European funding data (the EU's official
languages plus Norwegian, Icelandic and Catalan): on short names, a detector choosing among
~100 languages confuses e.g. Slovak with Somali. A text is *unsupported* when its most likely
language is not one the model was trained on (``model_languages``, English for the shipped
model), the supported languages together are less likely than ``MAX_SUPPORTED_SHARE`` and the
guess itself has at least ``MIN_GUESS_PROBABILITY`` (a two-word English phrase such as
"Ceramic Crafts" is unlikely in every language and goes to the model as usual); the result then says ``status=unsupported_language`` and the code, with no level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

CANDIDATES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv",
    "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "no", "is", "ca",
)
MAX_SUPPORTED_SHARE = 0.2  # below this probability of a supported language, a text is unsupported
MIN_GUESS_PROBABILITY = 0.2  # ...if the other language is itself this likely (short English phrases score low everywhere)
# A long text's language is read from 300 characters: its first 150 and 150 from its middle (so
# an English title over a Polish body reads as Polish). py3langid walks the text byte by byte in
# Python, so its cost grows with the length (~1,000 texts/s on 1,600 characters whole); on 50
# words of running text its answer is settled.
SAMPLE_CHARS = 300
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+")
# Fast path: running English prose is told by its function words at ~80,000 texts/s, 25x
# cheaper than the detector. Words found only in English (no "in", "is", "die", "de"), at least
# a fifth of at least 8 words, all ASCII: benchmarks/language_detection.py checks that the
# detector agrees on every text of the Kohesio and ESIF extracts this path takes.
_ENGLISH_FUNCTION_WORDS = frozenset("the and of to with for will that this which by from are be their its an as on at has have".split())
BATCH_TEXTS = 2000  # texts walked at once: memory stays ~30 MB whatever the input size
UNDETERMINED = "und"  # ISO 639-2 code for a text without enough letters to tell
UNSUPPORTED = "unsupported_language"


@dataclass(frozen=True)
class LanguageGuess:
    code: str  # ISO 639-1, or "und"
    probability: float

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "probability": round(self.probability, 4)}


# Invisible format characters (zero-width space and joiners, BOM, bidi marks): they split words
# and shift the detector's n-grams without changing what a reader sees (issue 19).
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Letters of the scripts Europe's languages are written in; a text mostly in other scripts
# (Arabic, Chinese, Devanagari...) is ranked among all of py3langid's languages, not the
# European candidates (which made Arabic 'en' and Chinese 'sl').
_EUROPEAN_LETTER = re.compile("[A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]")


@lru_cache(maxsize=1)
def _world_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    return identifier


def plainly_english(text: str) -> bool:
    """True for running English prose (the fast path); False means 'ask the detector'."""
    head = text[: 2 * SAMPLE_CHARS]
    if head.isascii():  # no invisible character and no word that is not ASCII: one lower-casing for all words
        words = _WORD.findall(head[:SAMPLE_CHARS].lower())
        if len(words) < 8:
            return False
        return sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, words)) >= 0.2 * len(words)
    words = _WORD.findall(_INVISIBLE.sub("", head)[:SAMPLE_CHARS])
    if len(words) < 8 or not all(w.isascii() for w in words):
        return False
    return sum(w.lower() in _ENGLISH_FUNCTION_WORDS for w in words) >= 0.2 * len(words)


def _sample(text: str) -> str | None:
    """What the detector reads of a text (``SAMPLE_CHARS`` from its start and middle), or None
    when it has fewer than 3 letters (undetermined)."""
    half = SAMPLE_CHARS // 2
    middle = len(text) // 2
    sample = text if len(text) <= SAMPLE_CHARS else text[:half] + "\n" + text[middle : middle + half]
    if not sample.isascii() and _INVISIBLE.search(sample):
        sample = _INVISIBLE.sub("", sample)
    if not _THREE_LETTERS.search(sample):
        return None
    return sample


# At least three letters (``_LETTER``), found without listing them all: [\W\d_] is every other character.
_THREE_LETTERS = re.compile(r"[^\W\d_](?:[\W\d_]*[^\W\d_]){2}")


def _mostly_other_script(sample: str) -> bool:
    """A text mostly in scripts other than Europe's is ranked among all of py3langid's languages.
    (The letters of an ASCII text are A-Z and a-z, all European.)"""
    if sample.isascii():
        return False
    return len(_EUROPEAN_LETTER.findall(sample)) < len(_LETTER.findall(sample)) / 2


@lru_cache(maxsize=1)
def _batch_scorer() -> Any:
    from csvnlp.language_scoring import BatchScorer

    return BatchScorer(_identifier())


def load_detector_in_background() -> Any:
    """Start loading the detector (``_batch_scorer``) in a thread and return the thread (join it
    before the detector is used or the process forks). Most of the load is decompressing
    py3langid's model, which runs without the GIL: on a second core, alongside loading spaCy."""
    import threading

    def load() -> None:
        try:
            _batch_scorer()
        except BaseException:  # noqa: BLE001 - e.g. no room for py3langid's temporary file: the
            pass  # first text that needs the detector loads it again and meets the error where it is handled

    thread = threading.Thread(target=load, name="csvnlp-language-load", daemon=True)
    thread.start()
    return thread


def rank_languages_many(texts: Sequence[str]) -> list[list[tuple[str, float]]]:
    """``rank_languages`` of each text, the European candidates' byte walk done for all at once
    (``language_scoring``: the same rankings, cheaper)."""
    samples = [_sample(text) for text in texts]
    other = [s is not None and _mostly_other_script(s) for s in samples]
    european = [s for s, o in zip(samples, other) if s is not None and not o]
    scorer = _batch_scorer() if european else None
    ranked = (r for i in range(0, len(european), BATCH_TEXTS) for r in scorer.rank_many(european[i:i + BATCH_TEXTS]))
    out = []
    for s, o in zip(samples, other):
        if s is None:
            out.append([(UNDETERMINED, 1.0)])
        elif o:
            out.append([(code, float(p)) for code, p in _world_identifier().rank(s)])
        else:
            out.append(next(ranked))  # py3langid's rank: (code, float) pairs already
    return out


def rank_languages(text: str) -> list[tuple[str, float]]:
    """(code, probability) for every candidate language, most likely first."""
    return rank_languages_many([text])[0]


def detect_language(text: str) -> LanguageGuess:
    code, probability = rank_languages(text)[0]
    return LanguageGuess(code, probability)


def model_languages(bundle: Any) -> tuple[str, ...]:
    """The languages a model was trained on: its meta's ``languages``, else English."""
    meta = getattr(bundle, "meta", None) or {}
    return tuple(meta.get("languages") or ("en",))


def _supported(ranked: list[tuple[str, float]], supported: Sequence[str]) -> tuple[LanguageGuess, bool]:
    best = LanguageGuess(*ranked[0])
    if best.code == UNDETERMINED or best.code in supported:
        return best, True
    share = sum(p for code, p in ranked if code in supported)
    return best, share >= MAX_SUPPORTED_SHARE or best.probability < MIN_GUESS_PROBABILITY


def _supported_from_scores(labels: Sequence[str], scores: list[float], supported: Sequence[str]) -> tuple[LanguageGuess, bool]:
    """``_supported`` of the ranking these scores make, without sorting them all: the best is the
    first label with the highest score (a stable sort puts it first), and the supported labels'
    scores are added in the order the ranking lists them."""
    top = max(scores)
    best = LanguageGuess(labels[scores.index(top)], top)
    if best.code == UNDETERMINED or best.code in supported:
        return best, True
    mine = sorted(((-scores[j], j) for j, label in enumerate(labels) if label in supported))
    share = sum(-negative for negative, _ in mine)
    return best, share >= MAX_SUPPORTED_SHARE or best.probability < MIN_GUESS_PROBABILITY


def _checks_by_detector(texts: Sequence[str], supported: Sequence[str]) -> list[tuple[LanguageGuess, bool]]:
    """``_supported(rank_languages(text), supported)`` of each text, the European candidates'
    scores taken for all at once and not sorted."""
    samples = [_sample(text) for text in texts]
    other = [s is not None and _mostly_other_script(s) for s in samples]
    european = [s for s, o in zip(samples, other) if s is not None and not o]
    scorer = _batch_scorer() if european else None
    labels: list[str] = []
    scored: list[list[float]] = []
    for i in range(0, len(european), BATCH_TEXTS):
        labels, rows = scorer.scores_many(european[i:i + BATCH_TEXTS])
        scored += rows
    rows_iter = iter(scored)
    out = []
    for s, o in zip(samples, other):
        if s is None:
            out.append(_supported([(UNDETERMINED, 1.0)], supported))
        elif o:
            out.append(_supported([(code, float(p)) for code, p in _world_identifier().rank(s)], supported))
        else:
            out.append(_supported_from_scores(labels, next(rows_iter), supported))
    return out


def supported_checks(texts: Sequence[str], supported: Sequence[str]) -> list[tuple[LanguageGuess, bool]]:
    """Each text's language and whether the model may classify it: running English prose by the
    fast path, the others by the detector, all of them in one batch."""
    fast = ["en" in supported and plainly_english(text) for text in texts]
    checked = iter(_checks_by_detector([text for text, quick in zip(texts, fast) if not quick], supported))
    return [(LanguageGuess("en", 1.0), True) if quick else next(checked) for quick in fast]


def supported_check(text: str, supported: Sequence[str]) -> tuple[LanguageGuess, bool]:
    """The text's language and whether the model may classify it."""
    return supported_checks([text], supported)[0]


def unsupported_result(guess: LanguageGuess, supported: Sequence[str]) -> dict[str, Any]:
    """What classify returns for a text in a language the model was not trained on: no level."""
    return {
        "levels": [],
        "predicted": [],
        "status": UNSUPPORTED,
        "entities": [],
        "language": guess.code,
        "language_probability": round(guess.probability, 4),
        "message": (
            f"the text is in '{guess.code}' (p={guess.probability:.2f}); the model reads "
            f"{', '.join(supported)} only, so no level is given"
        ),
    }


def classify_in_supported_languages(bundle: Any, texts: Sequence[str], **options: Any) -> list[dict[str, Any]]:
    """``bundle.classify`` for the texts in a language the model reads; an
    ``unsupported_language`` result (with the code) for the others. Every result carries
    ``language`` and ``language_probability``."""
    supported = model_languages(bundle)
    checks = supported_checks(texts, supported)
    readable = [i for i, (_, ok) in enumerate(checks) if ok]
    classified = iter(bundle.classify([texts[i] for i in readable], **options) if readable else [])
    results = []
    for guess, ok in checks:
        if ok:
            result = next(classified)
            result["language"] = guess.code
            result["language_probability"] = round(guess.probability, 4)
        else:
            result = unsupported_result(guess, supported)
        results.append(result)
    return results
