import re
import sqlite3
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.fts import parse_query
from storage.pg_search import tsquery_text


@pytest.mark.parametrize(
    ("text", "match", "exclude"),
    [
        ("war", '"war"', None),
        ("Kyiv energy", '"Kyiv" AND "energy"', None),
        ('"exact phrase" word', '"exact phrase" AND "word"', None),
        ("a OR b c", '("a" OR "b") AND "c"', None),
        ("energy -gas", '"energy"', '"gas"'),
        ('-"natural gas" oil', '"oil"', '"natural gas"'),
        ("sanction*", '"sanction"*', None),
        ('"sanction"*', '"sanction"*', None),
        ("author:smith budget", 'authors_text : "smith" AND "budget"', None),
        ('source:"financial times"', 'source_text : "financial times"', None),
        ('say "hi', '"say" AND "hi"', None),
        ('x"y', '"x" AND "y"', None),
        ("NEAR(a b) AND c NOT d", '"NEAR" AND "a" AND "b" AND "AND" AND "c" AND "NOT" AND "d"', None),
        ("OR", None, None),
        ("--- *** ()", None, None),
        ("weird:key value", '"weird:key" AND "value"', None),
        ("м'ясо", '"м\'ясо"', None),
    ],
)
def test_parse_query(text: str, match: str | None, exclude: str | None) -> None:
    parsed = parse_query(text)
    assert parsed.match == match
    assert parsed.exclude == exclude


def test_filters() -> None:
    parsed = parse_query("lang:UK after:2026-01-31 before:2026-02-28 energy")
    assert parsed.language == "uk"
    assert parsed.after == date(2026, 1, 31)
    assert parsed.before == date(2026, 2, 28)
    assert parsed.match == '"energy"'


def test_bad_date_is_searched_as_words() -> None:
    parsed = parse_query("after:yesterday")
    assert parsed.after is None
    assert parsed.match == '"after:yesterday"'


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        """CREATE VIRTUAL TABLE t USING fts5(title, title_translated, summary, summary_translated,
           text, authors_text, source_text, tokenize = "unicode61 remove_diacritics 2 separators 'ʼ'")"""
    )
    connection.execute("INSERT INTO t (title, text) VALUES ('Київ', 'мʼясо')")
    return connection


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=10_000))
def test_any_text_is_valid_fts(fts: sqlite3.Connection, text: str) -> None:
    parsed = parse_query(text)
    for expression in (parsed.match, parsed.exclude):
        if expression:
            fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(['"', "-", "*", "OR", "AND", "NOT", "NEAR(", ")", "(", ":", "^", "+",
                                  "source:", "author:", "lang:", "after:", "x", "кит", " ", "'", "’", "\x00", "😀"]),
                max_size=40))
def test_operator_soup_is_valid_fts(fts: sqlite3.Connection, parts: list[str]) -> None:
    parsed = parse_query("".join(parts))
    for expression in (parsed.match, parsed.exclude):
        if expression:
            fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_a_repeated_term_is_used_once() -> None:
    parsed = parse_query(" OR ".join(["t*"] * 680))  # the query that kept every chat waiting 58 s
    assert parsed.match == '"t"*' and parsed.dropped == 0
    assert parse_query("grain grain -gas -gas").match == '"grain"'
    assert parse_query("grain grain -gas -gas").exclude == '"gas"'
    assert parse_query("a OR a b").match == '"a" AND "b"'


def test_at_most_max_terms_are_searched_and_the_rest_counted() -> None:
    from storage.fts import MAX_TERMS

    words = [f"w{n}" for n in range(100)]
    parsed = parse_query(" OR ".join(words) + " -x -y")
    assert parsed.match is not None and parsed.match.count('"w') == MAX_TERMS
    assert parsed.exclude is None  # the exclusions came after the cap
    assert parsed.dropped == 100 - MAX_TERMS + 2
    assert parse_query(" ".join(words[:MAX_TERMS])).dropped == 0


def test_distinct_prefix_terms_over_the_cap_are_valid_fts(fts: sqlite3.Connection) -> None:
    from storage.fts import MAX_TERMS

    parsed = parse_query(" OR ".join(f"{chr(0x430 + n % 32)}{n}*" for n in range(680)))
    assert parsed.dropped == 680 - MAX_TERMS
    fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (parsed.match,)).fetchall()


@pytest.mark.parametrize("query", ["a'b", "x\\y", "&|!:*()<>", "'; DROP TABLE items; --", "q:*A | !b", "é’ʼ"])
def test_tsquery_text_holds_only_quoted_words_and_operators(query: str) -> None:
    positive, excluded, _ = tsquery_text(parse_query(query))
    for text in (positive, excluded):
        for lexeme in re.findall(r"'([^']*)'", text or ""):
            assert lexeme and all(ch.isalnum() for ch in lexeme)
        assert "\\" not in (text or "")
