import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pipeline.summarise import MAX_SUMMARY_CHARS, split_sentences, summarise_extractive


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Mr. Smith met Dr. J. K. Rowling in the U.S. on Monday. It rained.",
         ["Mr. Smith met Dr. J. K. Rowling in the U.S. on Monday.", "It rained."]),
        ("Inflation rose 3.5 per cent in Jan. 2026, the bank said. Prices fell.",
         ["Inflation rose 3.5 per cent in Jan. 2026, the bank said.", "Prices fell."]),
        ("«Це важливо», — сказав В. Зеленський у м. Київ. Що далі?",
         ["«Це важливо», — сказав В. Зеленський у м. Київ.", "Що далі?"]),
        ("Зростання на 2,5 млн. грн. було несподіваним! Так.",
         ["Зростання на 2,5 млн. грн. було несподіваним!", "Так."]),
        ("В 2024 г. рост составил 5 тыс. руб. Это много.",
         ["В 2024 г. рост составил 5 тыс. руб.", "Это много."]),
        ("Т.е. всё понятно. А. С. Пушкин родился в 1799 г. в Москве.",
         ["Т.е. всё понятно.", "А. С. Пушкин родился в 1799 г. в Москве."]),
        ("First paragraph without a stop\nSecond one.", ["First paragraph without a stop", "Second one."]),
        ("", []),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


ARTICLE = " ".join(
    f"Sentence number {n} talks about the grain corridor and Black Sea shipping in detail." for n in range(40)
)


def test_summary_has_three_to_five_sentences_in_order() -> None:
    summary = summarise_extractive(ARTICLE)
    sentences = split_sentences(summary)
    assert 3 <= len(sentences) <= 5
    positions = [ARTICLE.index(s) for s in sentences]
    assert positions == sorted(positions)
    assert all(s in ARTICLE for s in sentences)


def test_ukrainian_summary_keeps_whole_sentences() -> None:
    text = "\n".join(
        f"Уряд ухвалив рішення № {n} про підтримку енергетики, зазначив прем'єр-міністр Д. Шмигаль. "
        f"Вартість програми становить {n}.5 млрд. грн. на рік."
        for n in range(1, 15)
    )
    summary = summarise_extractive(text)
    for sentence in split_sentences(summary):
        assert sentence in text
        assert sentence.endswith((".", "!", "?"))


def test_short_text_is_kept_whole() -> None:
    assert summarise_extractive("One sentence. Two sentences.") == "One sentence. Two sentences."


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000))
def test_summary_never_raises_and_is_bounded(text: str) -> None:
    summary = summarise_extractive(text)
    assert len(summary) <= 2 * MAX_SUMMARY_CHARS + 1
