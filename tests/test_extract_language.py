"""Language: the detector on short texts, and the declared language against the detected one."""

from __future__ import annotations

import pytest

from bot.pipeline.extract.language import LetterCounts, choose_language, count_letters, detect_language

ENGLISH = (
    "The council said on Tuesday that the new bridge would open to traffic in the spring, "
    "and that the old one is to be kept for walkers."
)
UKRAINIAN = (
    "Міська рада повідомила у вівторок, що новий міст відкриють для руху навесні, а старий залишать "
    "для пішоходів. Це рішення ухвалили після громадських слухань."
)
RUSSIAN = (
    "Городской совет сообщил во вторник, что новый мост откроют для движения весной, а старый оставят "
    "для пешеходов. Это решение приняли после общественных слушаний."
)
GERMAN = (
    "Der Stadtrat hat am Dienstag mitgeteilt, dass die neue Brücke im Frühjahr für den Verkehr geöffnet "
    "wird und die alte für Fußgänger bleibt."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ENGLISH, "en"),
        (UKRAINIAN, "uk"),
        (RUSSIAN, "ru"),
        (GERMAN, "de"),
        ("", None),
        ("12345 67890 !!!", None),
        ("OK", None),
        ("<script>alert(1)</script>", None),
        ("Київ", None),  # too short to be sure
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        (["uk"], UKRAINIAN, "uk"),
        (["en-US"], UKRAINIAN, "uk"),  # a template's default lang loses to plain Ukrainian text
        (["ru_RU"], RUSSIAN, "ru"),
        (["fr-FR"], "Bonjour", "fr"),  # too little text to doubt the page
        ([], "", None),
        (["not a language!"], "", None),
    ],
)
def test_choose_language(declared: list[str], text: str, expected: str | None) -> None:
    assert choose_language(declared, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", LetterCounts(letters=0, cyrillic=0, latin=0, ukrainian=0, russian=0)),
        ("Kyiv, 2024!", LetterCounts(letters=4, cyrillic=0, latin=4, ukrainian=0, russian=0)),
        ("Café Ærø", LetterCounts(letters=7, cyrillic=0, latin=7, ukrainian=0, russian=0)),
        ("Їжак і єнот", LetterCounts(letters=9, cyrillic=9, latin=0, ukrainian=3, russian=0)),
        ("Съешь ещё", LetterCounts(letters=8, cyrillic=8, latin=0, ukrainian=0, russian=2)),
        ("ЭТО ЁЖ", LetterCounts(letters=5, cyrillic=5, latin=0, ukrainian=0, russian=2)),  # either case
        ("Київ Kyiv 中文", LetterCounts(letters=10, cyrillic=4, latin=4, ukrainian=1, russian=0)),
    ],
)
def test_count_letters(text: str, expected: LetterCounts) -> None:
    assert count_letters(text) == expected
