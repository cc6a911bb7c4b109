"""The language: the page's declared one, unless a small detector plainly reads another in the text;
and the one count of a text's letters by script (`count_letters`), which the detector and the
language-model summariser's reply check (briefs.is_in_language) both judge by.

The detector tells English, Ukrainian and Russian apart by their letters and common words, and a
few other Latin-script languages by their common words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.pipeline.extract.cleaning import WORD

UK_LETTERS = frozenset("іїєґІЇЄҐ")
"""Letters Ukrainian writes and Russian does not."""
RU_LETTERS = frozenset("ыэъёЫЭЪЁ")
"""Letters Russian writes and Ukrainian does not."""
STOPWORDS = {
    "en": {
        "the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on", "are", "this", "be",
        "by", "have", "from",
    },
    "uk": {
        "і", "й", "що", "не", "на", "та", "до", "як", "це", "від", "для", "за", "але", "його", "було", "який",
        "також", "або", "ще", "вже",
    },
    "ru": {
        "и", "что", "не", "на", "как", "это", "от", "для", "за", "но", "его", "было", "который", "также", "или",
        "еще", "уже", "он", "по", "из",
    },
    "de": {
        "der", "die", "und", "das", "ist", "nicht", "mit", "den", "ein", "eine", "zu", "auf", "sich", "auch", "dem",
        "für",
    },
    "fr": {
        "le", "la", "les", "et", "des", "est", "une", "dans", "que", "pour", "pas", "du", "qui", "sur", "au", "avec",
    },
    "es": {
        "el", "la", "los", "las", "y", "que", "del", "en", "una", "por", "con", "para", "es", "se", "no", "al",
    },
    "it": {
        "il", "di", "che", "la", "e", "per", "una", "sono", "della", "non", "con", "gli", "del", "nel", "anche", "è",
    },
    "pt": {
        "o", "a", "os", "que", "de", "não", "uma", "para", "com", "do", "da", "em", "se", "por", "mais", "é",
    },
    "nl": {
        "de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "zijn", "voor", "met", "ook", "er", "maar",
    },
    "pl": {
        "i", "w", "nie", "się", "na", "że", "jest", "do", "to", "z", "jak", "ale", "co", "po", "przez", "oraz",
    },
}


@dataclass(frozen=True)
class LetterCounts:
    """A text's letters, counted by script."""

    letters: int
    cyrillic: int
    latin: int
    """ASCII letters and the accented ones of Latin-1 and Latin Extended-A and -B."""
    ukrainian: int
    """Letters of UK_LETTERS."""
    russian: int
    """Letters of RU_LETTERS."""


CYRILLIC_LETTER = re.compile("[" + "".join(c for c in map(chr, range(0x400, 0x500)) if c.isalpha()) + "]")
LATIN_LETTER = re.compile("[A-Za-z" + "".join(c for c in map(chr, range(0xC0, 0x250)) if c.isalpha()) + "]")
"""The letters of the Cyrillic block, and ASCII letters with those of Latin-1 and Latin Extended-A
and -B: counted by the regular-expression engine, not a Python loop over every letter."""
UK_STOPWORDS_ONLY = STOPWORDS["uk"] - STOPWORDS["ru"]
RU_STOPWORDS_ONLY = STOPWORDS["ru"] - STOPWORDS["uk"]


def count_letters(text: str) -> LetterCounts:
    """The letters of `text` counted by script, and its Ukrainian-only and Russian-only letters."""
    return LetterCounts(
        letters=sum(map(str.isalpha, text)),
        cyrillic=len(CYRILLIC_LETTER.findall(text)),
        latin=len(LATIN_LETTER.findall(text)),
        # a few letters, each counted at C speed: no pass over every letter for them
        ukrainian=sum(map(text.count, UK_LETTERS)),
        russian=sum(map(text.count, RU_LETTERS)),
    )


def detect_language(text: str) -> str | None:
    """A two-letter language code from letters and common words, or None when unsure."""
    sample = text[:5_000].casefold()  # a few paragraphs settle it
    counts = count_letters(sample)
    if counts.letters < 20:
        return None
    words = WORD.findall(sample)
    if counts.cyrillic > 0.5 * counts.letters:
        uk = counts.ukrainian + 3 * sum(w in UK_STOPWORDS_ONLY for w in words)
        ru = counts.russian + 3 * sum(w in RU_STOPWORDS_ONLY for w in words)
        return decide({"uk": uk, "ru": ru}, minimum=3)
    if counts.latin > 0.5 * counts.letters:
        scores = {lang: sum(w in stop for w in words) for lang, stop in STOPWORDS.items() if lang not in {"uk", "ru"}}
        return decide(scores, minimum=max(3, len(words) // 25))
    return None


def decide(scores: dict[str, int], *, minimum: int) -> str | None:
    """The best-scoring language when it scores at least `minimum` and twice the runner-up, else None."""
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= minimum and top >= 2 * second else None


def language_code(value: str) -> str | None:
    """The language code of a declared value ("en-GB" -> "en", "uk_UA" -> "uk"), or None."""
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def choose_language(declared: list[str], text: str) -> str | None:
    """The declared language unless the text plainly says otherwise (templates often keep "en")."""
    detected = detect_language(text)
    codes = [code for code in (language_code(value) for value in declared) if code]
    if detected and (not codes or codes[0] != detected):
        return detected
    return codes[0] if codes else None
