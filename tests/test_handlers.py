"""Command arguments and button data read strictly (bot/telegram/handlers.py): numbers in range or
a usage answer, and button data the bot did not make recognised as such. The answers themselves
are checked end to end in test_hardening.py."""

from __future__ import annotations

import pytest

from bot.telegram.context import WrongArguments
from bot.telegram.handlers import ID_MAX, callback_numbers, item_number, whole_number


@pytest.mark.parametrize(("argument", "number"), [("12", 12), (" #12 ", 12), ("№12", 12), ("1", 1),
                                                  (str(ID_MAX), ID_MAX), ("007", 7)])
def test_item_numbers(argument: str, number: int) -> None:
    assert item_number(argument) == number


@pytest.mark.parametrize("argument", [
    "", "0", "-1", "99999999999999999999", str(ID_MAX + 1), "²", "١٢", "12.5", "1e3", "12 13", "twelve", "#", "##12",
    "0x10", "+5", "1_000", "١", "①", "\u200b12",
])
def test_item_numbers_that_cannot_be_used(argument: str) -> None:
    with pytest.raises(WrongArguments):
        item_number(argument)


@pytest.mark.parametrize("argument", ["0", "51", "²", "-3", "99999999999999999999", "ten"])
def test_latest_counts_out_of_range(argument: str) -> None:
    with pytest.raises(WrongArguments):
        whole_number(argument, least=1, most=50)


@pytest.mark.parametrize(("data", "numbers"), [
    ("search:1:5", (1, 5)), ("search:12:0", (12, 0)),
    ("search:1:99999999999999999999", None), ("search:1:abc", None), ("search:1", None), ("search:1:2:3", None),
    ("search::5", None), ("search:1:-5", None), ("search:1:²", None), ("cards:1:5", None), ("", None), (None, None),
])
def test_callback_data(data: str | None, numbers: tuple[int, ...] | None) -> None:
    assert callback_numbers(data, "search", 2) == numbers
