"""Summaries of articles: the `Summariser` interface and the built-in extractive summariser.

The extractive summariser needs no model: it picks 3–5 whole sentences of the article, in their
original order, scoring them by how many of the article's frequent content words they carry,
with a bonus for the lead (news puts the point first); a quotation that the sentence splitter cut
into several sentences is taken whole or not at all, so a summary never stops inside one. It
works for English, Ukrainian and Russian; the sentence splitter knows the common abbreviations,
initials and decimal numbers of all three. It runs in the worker pool beside extraction (workers.analyse_page); a
language-model summariser (summarise_llm.py) implements `Summariser` and can translate.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from bot.pipeline.models import Article, Summary

MIN_SENTENCES, MAX_SENTENCES = 3, 5
MAX_SUMMARY_CHARS = 1200
SUMMARISED_CHARS = 100_000
"""Characters of a text the summary is chosen from (the longest dev-set article has 75,000): a
book-length text would cost seconds and its summary still comes from the opening."""

# The word lists below are written as text and split once (hence noqa: SIM905): easier to read and extend.
_ABBREVIATIONS = frozenset(
    # English
    "mr mrs ms dr prof sr jr st vs etc e.g i.e u.s u.k u.n inc ltd co corp gen sen rep gov lt col "
    "capt sgt no nos fig approx dept est jan feb mar apr jun jul aug sep sept oct nov dec mt ave "
    "blvd ft p pp vol ed eds al cf"
    # Ukrainian
    " ім вул м р рр тис млн млрд трлн грн п ст див т.д т.п т.ч проф д-р акад доц обл р-н с смт "
    "пров просп напр ін зокр гол заст кв км"
    # Russian
    " г гг ул им т.е т.д т.п тыс руб др пр ген гос пос корп".split()
)
# Units that often end a sentence: a boundary when a capital letter follows.
_SENTENCE_FINAL_UNITS = frozenset("руб коп грн тыс тис млн млрд трлн etc".split())
_SENTENCE_END = re.compile(r"([.!?…]+[\"'»”’)\]]*)(\s+)(?=[\"'«„“(\[—–-]?\s*[\w\d])", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*", re.UNICODE)
_STOPWORDS = frozenset(
    "the a an and or but of to in on at for with by from as is are was were be been being it its "
    "this that these those he she they we you i his her their our your not no yes will would can "
    "could should has have had do does did said says also than then there here which who whom "
    "what when where why how all any some more most other into over after before about up out "
    "if so just one two new"
    " і й та а але або що як це цей ця ці той та те ті в у на до з із зі за від по про для при "
    "не ні так він вона воно вони ми ви я його її їх був була було були є бути буде також "
    "який яка яке які коли де чому щоб вже ще лише тільки ж же би б бо між після перед через"
    " и в во на с со к ко по за из от до для о об при не ни что как это этот эта эти тот та то "
    "те он она оно они мы вы я его ее её их был была было были есть быть будет также который "
    "которая которое которые когда где почему чтобы уже еще ещё лишь только же бы или но а".split()
)


class Summariser(Protocol):
    async def summarise(self, article: Article, *, language: str) -> Summary:
        """A summary of `article`, in `language` when the summariser can translate."""
        ...


def _opening(text: str) -> str:
    """The first SUMMARISED_CHARS of text, cut at a paragraph's or a sentence's end where there is one."""
    if len(text) <= SUMMARISED_CHARS:
        return text
    opening = text[:SUMMARISED_CHARS]
    cut = max(opening.rfind("\n"), opening.rfind(". "))
    return opening[: cut + 1] if cut > SUMMARISED_CHARS // 2 else opening


def split_sentences(text: str) -> list[str]:
    """Split text into sentences without breaking at abbreviations, initials or decimals."""
    return [sentence for paragraph in _paragraph_sentences(text) for sentence in paragraph]


def _paragraph_sentences(text: str) -> list[list[str]]:
    """The sentences of each paragraph (a line of the text), empty paragraphs left out."""
    paragraphs: list[list[str]] = []
    for paragraph in re.split(r"\n\s*\n|\n", text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        sentences: list[str] = []
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            end = match.end(1)
            if _is_false_boundary(paragraph[start:end], match.group(1), paragraph[match.end():]):
                continue
            sentences.append(paragraph[start:end].strip())
            start = match.end()
        tail = paragraph[start:].strip()
        if tail:
            sentences.append(tail)
        paragraphs.append(sentences)
    return paragraphs


def _is_false_boundary(candidate: str, punctuation: str, following: str) -> bool:
    if not punctuation.startswith("."):
        return False
    words = candidate[: -len(punctuation)].split()
    if not words:
        return True
    last = words[-1].lower().lstrip("(\"'«“")
    if last in _SENTENCE_FINAL_UNITS:
        return not following[:1].isupper()  # "5 тис. грн. Це" ends; "5 тис. грн. було" does not
    if last in _ABBREVIATIONS or last.rstrip(".") in _ABBREVIATIONS:
        return True
    if len(last) == 1 and last.isalpha():
        return True  # an initial: "J. K. Rowling", "В. Зеленський"
    return bool(re.fullmatch(r"(?:\w\.)+\w", last))  # "U.S", "т.е"


def summarise_extractive(text: str, *, max_sentences: int = MAX_SENTENCES) -> str:
    """3–5 of the text's own sentences in their original order; short texts are kept whole.

    A quotation the splitter cut into several sentences is taken whole or not at all, so that a
    summary never stops inside one (see open_quotations).
    """
    paragraphs = _paragraph_sentences(_opening(text))
    sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
    if len(sentences) <= MIN_SENTENCES:
        return _closed(" ".join(sentences), limit=MAX_SUMMARY_CHARS * 2)
    frequencies = Counter(
        word for sentence in sentences for word in _content_words(sentence)
    )
    wanted = MIN_SENTENCES if len(sentences) < 12 else (4 if len(sentences) < 30 else max_sentences)
    scored = []
    for index, sentence in enumerate(sentences):
        words = _content_words(sentence)
        if not words or len(sentence) < 25:
            continue
        weight = sum(frequencies[word] for word in set(words)) / math.sqrt(len(words))
        lead_bonus = 1.6 if index == 0 else 1.25 if index < 3 else 1.0
        too_long = 0.5 if len(sentence) > 400 else 1.0
        scored.append((weight * lead_bonus * too_long, index))
    ranked = [index for _, index in sorted(scored, reverse=True)]
    passage_of = {index: passage for passage in _passages(paragraphs) for index in passage.indices}
    chosen: list[_Passage] = []
    for index in ranked:
        if len(chosen) == wanted:
            break
        passage = passage_of[index]
        if passage.balanced and passage not in chosen:
            chosen.append(passage)
    summary: list[str] = []
    for passage in sorted(chosen, key=lambda passage: passage.indices[0]):
        quoted = [sentences[index] for index in passage.indices]
        if summary and len(" ".join(summary)) + len(" ".join(quoted)) > MAX_SUMMARY_CHARS:
            break
        summary.extend(quoted)
    if summary:
        return " ".join(summary)
    # no whole passage to take: the best sentence (or the first), its quotation closed
    return _closed(sentences[ranked[0] if ranked else 0], limit=MAX_SUMMARY_CHARS * 2)


_QUOTE_CLOSERS = {'"': '"', "“": "”", "«": "»", "„": "“”"}
"""Each opening quotation mark and the marks that close it, the usual one first ("„" closes with "“")."""
_QUOTE_MARKS = frozenset("".join(_QUOTE_CLOSERS) + "".join(_QUOTE_CLOSERS.values()))
MAX_QUOTED_SENTENCES = 6
"""A quotation left open for longer than this many sentences is not taken as one passage."""


def open_quotations(text: str) -> list[str]:
    """The opening quotation marks that `text` leaves unclosed, outermost first (a straight '"' opens
    when none is open)."""
    marks: list[str] = []
    _follow_quotations(text, marks)
    return marks


def _follow_quotations(text: str, marks: list[str]) -> bool:
    """Follow the quotation marks of `text`, opening and closing in `marks` (the open ones, innermost
    last); False when a closing mark closes nothing."""
    closes_all = True
    for char in text:
        if char not in _QUOTE_MARKS:
            continue
        if marks and char in _QUOTE_CLOSERS[marks[-1]]:
            marks.pop()
        elif char in _QUOTE_CLOSERS:
            marks.append(char)
        else:
            closes_all = False
    return closes_all


@dataclass(frozen=True)
class _Passage:
    indices: tuple[int, ...]
    """Sentence numbers: one sentence, or the sentences a quotation runs over."""
    balanced: bool
    """Whether its quotations all open and close within it."""


def _passages(paragraphs: list[list[str]]) -> list[_Passage]:
    """The text's sentences, numbered in order, grouped into passages: a sentence, or the sentences
    from a quotation's opening mark to its closing one within a paragraph."""
    passages: list[_Passage] = []
    number = 0
    for paragraph in paragraphs:
        indices: list[int] = []
        marks: list[str] = []
        balanced = True
        for sentence in paragraph:
            balanced = _follow_quotations(sentence, marks) and balanced
            indices.append(number)
            number += 1
            if not marks or len(indices) >= MAX_QUOTED_SENTENCES:
                passages.append(_Passage(tuple(indices), balanced and not marks))
                indices, marks, balanced = [], [], True
        if indices:
            passages.append(_Passage(tuple(indices), False))  # a quotation its paragraph never closes
    return passages


def _closed(text: str, *, limit: int) -> str:
    """`text` within `limit` characters, with the quotations it leaves open closed at its end."""
    while True:
        closing = "".join(_QUOTE_CLOSERS[mark][0] for mark in reversed(open_quotations(text)))
        if len(text) + len(closing) <= limit:
            return text + closing
        text = text[: max(0, limit - len(closing))]


def _content_words(sentence: str) -> list[str]:
    return [
        word for word in (w.lower() for w in _WORD.findall(sentence))
        if len(word) > 2 and word not in _STOPWORDS
    ]

