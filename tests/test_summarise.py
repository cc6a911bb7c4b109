import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pipeline.summarise import (
    MAX_SUMMARY_CHARS,
    SUMMARISED_CHARS,
    open_quotations,
    split_sentences,
    summarise_extractive,
)


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


def test_a_book_length_text_is_summarised_from_its_opening() -> None:
    # past SUMMARISED_CHARS (beyond sentences too short to be chosen), paragraphs full of one word
    # would outweigh the article if they counted
    opening = "\n".join(
        f"Paragraph {n} reports that the harbour reopened and grain ships left the port on time." for n in range(50)
    )
    flood = "\n".join("Tractors tractors tractors block tractors on tractors roads." for _ in range(20_000))
    text = opening + "\n" + "No news. " * (SUMMARISED_CHARS // 9) + "\n" + flood
    summary = summarise_extractive(text)
    assert "harbour" in summary
    assert "ractors" not in summary


def test_short_text_is_kept_whole() -> None:
    assert summarise_extractive("One sentence. Two sentences.") == "One sentence. Two sentences."


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000))
def test_summary_never_raises_and_is_bounded(text: str) -> None:
    summary = summarise_extractive(text)
    assert len(summary) <= 2 * MAX_SUMMARY_CHARS + 1


PROTEST = [
    "Farmers from the southern regions drove their tractors to the capital on Monday to protest against grain "
    "import rules.",
    "The protest blocked the main road into the city for several hours, police said.",
    "Officials from the agriculture ministry met farmers' union representatives in the afternoon.",
    "No agreement on the grain import rules was reached, according to both sides.",
    "Another meeting is planned for next week, the ministry said.",
    "Prices for wheat have fallen by a fifth since the spring, traders said.",
    "Some tractors remained parked near the ministry building overnight.",
    "Police said the protest had been peaceful.",
    "The farmers' union leader was quoted by local media as saying {open}grain import rules ruin farmers, "
    "that's why we have come here. We are not leaving, not today, not tomorrow.{close}",
    "The union said it would decide on further action after the next meeting.",
]


@pytest.mark.parametrize(("open_mark", "close_mark"), [('"', '"'), ("“", "”"), ("«", "»"), ("„", "“")])
def test_a_quotation_cut_into_sentences_is_taken_whole(open_mark: str, close_mark: str) -> None:
    # the splitter cuts the union leader's quotation in two; its first half scores high, its second low
    text = "\n".join(PROTEST).format(open=open_mark, close=close_mark)
    summary = summarise_extractive(text)

    assert open_quotations(summary) == []
    assert summary.endswith(f"that's why we have come here. We are not leaving, not today, not tomorrow.{close_mark}")


def test_a_quotation_its_paragraph_never_closes_is_left_out() -> None:
    # a quotation running over paragraphs opens each one and closes only in the last
    text = "\n".join(PROTEST[:8]).format() + (
        "\n“Grain import rules ruin farmers, and that's why we have come to the capital with our tractors."
        "\n“We are not leaving,” the union leader said."
    )
    summary = summarise_extractive(text)

    assert open_quotations(summary) == []
    assert "Grain import rules ruin farmers" not in summary


@pytest.mark.parametrize(
    ("text", "left_open"),
    [
        ('He said "we came here.', ['"']),
        ('He said "we came here." Then he left.', []),
        ("«Ми тут, — сказав він. — „Назавжди“.", ["«"]),
        ("«Ми тут, — сказав він. — „Назавжди“».", []),
        ("„Wir bleiben“, sagte er.", []),
        ("„Мы остаёмся”, сказал он.", []),
        ("“Outer ‘inner’ text", ["“"]),
        ("a 5” screen", []),  # a closing mark that closes nothing leaves nothing open
        ("", []),
    ],
)
def test_open_quotations(text: str, left_open: list[str]) -> None:
    assert open_quotations(text) == left_open


QUOTED_SENTENCE = st.builds(
    lambda words, marks: " ".join(f"{mark}{word}" for word, mark in zip(words, marks, strict=False)) + ".",
    st.lists(st.sampled_from(["grain", "farmers", "tractors", "ministry", "rules", "protest", "police"]),
             min_size=5, max_size=12),
    st.lists(st.sampled_from(["", "", "", '"', "“", "”", "«", "»", "„"]), min_size=12, max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(QUOTED_SENTENCE, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=20))
def test_a_summary_never_ends_inside_a_quotation(paragraphs: list[str]) -> None:
    summary = summarise_extractive("\n".join(paragraphs))
    assert open_quotations(summary) == []
    assert len(summary) <= 2 * MAX_SUMMARY_CHARS + 1
