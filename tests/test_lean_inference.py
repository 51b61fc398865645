"""The lean inference path (issue 20) answers as the plain definitions it replaced: each cheaper
check here is compared with the straightforward code it stands for."""

from __future__ import annotations

import re

import pytest

from csvnlp import language
from csvnlp.inputs import _CONTROL

EDGE_TEXTS = [
    "", "ab", "a b", "a1b", "12 34", "é", "ü ö", "\u200bab\u200bc", "A\u00adB\u00adC", "北京市科学技术委员会", "وزارة الاقتصاد",
    "The project will support the growth of SMEs in the region and their access to new markets.",
    "THE PROJECT WILL SUPPORT THE GROWTH OF SMES IN THE REGION AND THEIR ACCESS TO NEW MARKETS.",
    "Le projet soutiendra la croissance des PME de la région et leur accès à de nouveaux marchés.",
    "The\u200b project will support the growth of SMEs in the region and their access to markets.",
    "Ceramic Crafts", "x" * 700, "the and of " * 100, "naïve café with the and of to in the region and the city",
]


def _plainly_english_as_defined(text: str) -> bool:
    words = language._WORD.findall(language._INVISIBLE.sub("", text[: 2 * language.SAMPLE_CHARS])[: language.SAMPLE_CHARS])
    if len(words) < 8 or not all(w.isascii() for w in words):
        return False
    return sum(w.lower() in language._ENGLISH_FUNCTION_WORDS for w in words) >= 0.2 * len(words)


def _sample_as_defined(text: str) -> str | None:
    half = language.SAMPLE_CHARS // 2
    middle = len(text) // 2
    sample = text if len(text) <= language.SAMPLE_CHARS else text[:half] + "\n" + text[middle : middle + half]
    if language._INVISIBLE.search(sample):
        sample = language._INVISIBLE.sub("", sample)
    return sample if len(language._LETTER.findall(sample)) >= 3 else None


def _other_script_as_defined(sample: str) -> bool:
    return len(language._EUROPEAN_LETTER.findall(sample)) < len(language._LETTER.findall(sample)) / 2


@pytest.fixture(scope="module")
def texts(records):
    return EDGE_TEXTS + [r["text"] for r in records] + [r["text"][:40] for r in records]


def test_lean_inference_language_checks_equal_their_definitions(texts):
    for text in texts:
        assert language.plainly_english(text) == _plainly_english_as_defined(text), text
        assert language._sample(text) == _sample_as_defined(text), text
        sample = _sample_as_defined(text)
        if sample is not None:
            assert language._mostly_other_script(sample) == _other_script_as_defined(sample), text


def test_lean_inference_three_letters_regex_is_a_letter_count():
    samples = ["", "a", "ab", "a1b", "a b c", "1a2b3c", "__a__b__", "é9ü", "北京", "北京市", "a\nb\nc", "...a...b"]
    for sample in samples:
        assert bool(language._THREE_LETTERS.search(sample)) == (len(language._LETTER.findall(sample)) >= 3), sample


def test_lean_inference_control_character_class_is_the_loop_it_replaced():
    """inputs.text_problem counts control characters with one regex: the same characters as
    ``ord(ch) < 32 and ch not in "\\t\\n\\r\\f"``, over every code point."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert len(_CONTROL.findall(everything)) == sum(1 for ch in everything if ord(ch) < 32 and ch not in "\t\n\r\f") == 28
    assert "".join(_CONTROL.findall(everything)) == "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r\f")


def test_lean_inference_whitespace_split_is_the_regex_whitespace():
    """The entity prefilter removes white space with str.split: the same characters as re's \\s."""
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    assert "".join(everything.split()) == re.sub(r"\s+", "", everything)


def test_lean_inference_tag_columns_equal_the_classify_results(shipped_bundle, texts):
    """predict.tag_columns gives, cell for cell, what tag wrote from classify's dicts."""
    from csvnlp.language import classify_in_supported_languages
    from csvnlp.levels import LEVEL_KEYS
    from csvnlp.predict import tag_columns

    readable = [t for t in texts if t.strip()]
    columns = tag_columns(shipped_bundle, readable)
    results = classify_in_supported_languages(shipped_bundle, readable, evidence=False)
    for i, result in enumerate(results):
        probabilities = {item["level"]: item["probability"] for item in result["levels"]}
        expected = {
            "status": result["status"], "predicted": ";".join(result["predicted"]), "language": result["language"],
            **{f"p_{key}": probabilities.get(key) for key in LEVEL_KEYS},
            "clusters": ";".join(dict.fromkeys(e["text"] for e in result["entities"] if e["label"] == "CLUSTER")),
            "programmes": ";".join(dict.fromkeys(e["text"] for e in result["entities"] if e["label"] == "PROGRAMME")),
            "programme_ids": ";".join(dict.fromkeys(e["id"] for e in result["entities"] if e["label"] == "PROGRAMME" and e.get("id"))),
        }
        assert {name: columns[name][i] for name in expected} == expected, readable[i]
    assert {r["status"] for r in results} >= {"ok", "unsupported_language"}
    assert any(columns["programmes"]) and any(columns["clusters"])


def test_lean_inference_word_count_is_the_regex_count(texts):
    from csvnlp.features import _WORD, word_count

    everything = "".join(chr(c) for c in range(128))
    for text in texts + [everything, everything * 3, "a_b c-d e1 __ 9", "\x00a\x7fb\tc"]:
        assert word_count(text) == len(_WORD.findall(text)), text


def test_lean_inference_lexicon_counts_equal_the_owner_walk(texts):
    from csvnlp import levels

    def as_defined(text: str) -> tuple[list[int], int]:
        hits, domain = [0] * len(levels.LEVEL_KEYS), set()
        for match in levels._ALL_TERMS.finditer(text.lower()):
            for owner in levels._TERM_OWNERS[match.group(0)]:
                if owner == "domain":
                    domain.add(match.group(0))
                else:
                    hits[levels.LEVEL_KEYS.index(owner)] += 1
        return hits, len(domain)

    keywords = " ".join(term for terms in levels._LEXICONS.values() for term in terms)
    for text in texts + [keywords, keywords.upper(), "-cluster- cluster-based clusters_x"]:
        assert levels.lexicon_counts(text) == as_defined(text), text
    assert sum(levels.lexicon_counts(keywords)[0]) > 10


@pytest.mark.parametrize("supported", [("en",), ("en", "de", "fr"), ("pl", "cs", "sk", "sl", "hr")])
def test_lean_inference_supported_checks_equal_the_ranking_rule(texts, supported):
    """supported_checks reads the best language and the supported share off the scores without
    sorting them: the same answers as _supported on rank_languages_many's rankings."""
    from conftest import SHARED_DATA

    sample = list(texts)
    names = SHARED_DATA / "kohesio_beneficiaries_zachz3394" / "kohesio-data-export.tsv"
    if names.exists():  # short names in eleven languages: the detector's hardest texts
        import pandas as pd

        sample += [t for t in pd.read_csv(names, sep="\t", dtype=str, keep_default_na=False)["Beneficiary Name"] if t.strip()][:1500]
    expected = [language._supported(r, supported) for r in language.rank_languages_many(sample)]
    fast = ["en" in supported and language.plainly_english(t) for t in sample]
    expected = [(language.LanguageGuess("en", 1.0), True) if quick else e for quick, e in zip(fast, expected)]
    assert language.supported_checks(sample, supported) == expected


def test_lean_inference_lexicon_trie_matches_the_flat_alternation(texts):
    """levels._ALL_TERMS is a longest-first character trie: the matches of the flat alternation
    of the terms sorted longest first, the definition it replaced."""
    from csvnlp import levels

    flat = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in sorted(levels._TERM_OWNERS, key=len, reverse=True)) + r")(?![\w-])")
    terms = list(levels._TERM_OWNERS)
    glued = [" ".join(terms), "-".join(terms), "".join(terms), " ".join(t + "s" for t in terms), " ".join(t[:-1] for t in terms)]
    for text in [t.lower() for t in texts] + glued:
        assert levels._ALL_TERMS.findall(text) == flat.findall(text), text[:80]


def test_lean_inference_token_regex_finds_the_token_pattern_tokens(texts):
    """TfidfAnalyzer scans with an equivalent of features.TOKEN_PATTERN (scikit-learn's own
    pattern is what the vectorizer was trained with): the same tokens."""
    from csvnlp.features import _SAME_TOKENS_FASTER, TOKEN_PATTERN

    faster, original = re.compile(_SAME_TOKENS_FASTER[TOKEN_PATTERN]), re.compile(TOKEN_PATTERN)
    edges = ["a", "ab", "a1b", "ab1", "1ab", "_ab", "ab_", "ab-cd", "é", "éé", "ǅx", "x²y", "½ab", "ab½", "ⅫA", "x\u0301y", "a b", "ab\ncd"]
    for text in [t.lower() for t in texts] + texts + edges + [" ".join(edges), "".join(edges)]:
        assert faster.findall(text) == original.findall(text), text[:80]


def test_lean_inference_tokenizable_finds_the_long_runs_the_regex_finds(texts):
    from csvnlp.entities.component import _LONG_RUN, MAX_RUN, tokenizable

    runs = ["x" * (MAX_RUN + k) for k in (-1, 0, 1, 2)]
    for text in texts + runs + [" ".join(runs), "\u3000".join(runs), "\u2028" + runs[2], "a\u00a0" * 150]:
        expected = text if not _LONG_RUN.search(text) else None
        if expected is not None:
            assert tokenizable(text) is text, text[:40]
        else:
            assert tokenizable(text) != text and not _LONG_RUN.search(tokenizable(text)) and len(tokenizable(text)) == len(text)


def test_lean_inference_lexicon_densities_equal_the_cell_loop(texts):
    import math

    import numpy as np

    from csvnlp.features import _FIELD_LABEL_LINE, lexicon_densities, model_text, strip_field_labels, text_stats

    stats = [text_stats(model_text(t)) for t in texts]
    expected = np.zeros((len(stats), 3))
    for i, stat in enumerate(stats):
        for j, hits in enumerate(stat.level_hits):
            expected[i, j] = math.log1p(100.0 * hits / max(stat.words, 1)) / math.log(101.0)
    assert np.array_equal(lexicon_densities(stats), expected) and expected.any()
    assert lexicon_densities([]).shape == (0, 3)
    for text in texts + ["Funding: INNOSUP\nCluster Partners: A, B", "Funding INNOSUP"]:
        assert strip_field_labels(text) == _FIELD_LABEL_LINE.sub("", text)
