"""What a member may spend (bot/desk/costs.py, storage/costs.py, the summariser's TokenBudget) on a
real SQLite file: the chat's share of the day's tokens, and /resummarize per member."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.desk.costs import Refusal, permit_resummarize
from bot.pipeline.summarise_llm import BUDGET_SPENT, CHAT_BUDGET_SPENT, TokenBudget
from bot.services import Services
from storage.repository import Repository
from tests.conftest import settings_for

CHAT, OTHER = -100500, -100600
MEMBER, ANOTHER = 501, 502
TODAY = date(2026, 11, 20)


@pytest.fixture
async def with_model(tmp_path: Path) -> AsyncIterator[Services]:
    """Services with a language model configured (never called here) and small limits."""
    opened = await Services.open(settings_for(
        tmp_path, LLM_BASE_URL="http://127.0.0.1:9/v1", LLM_MODEL="m", LLM_DAILY_TOKEN_BUDGET="1000",
        ALLOWED_CHATS=f"{CHAT},{OTHER}", RESUMMARIZE_MEMBER_DAILY="3", RESUMMARIZE_COOLDOWN_SECONDS="60"))
    yield opened
    await opened.aclose()


async def test_a_chat_spends_only_its_share_and_all_chats_the_budget(repository: Repository) -> None:
    overall = TokenBudget(repository, 1000, today=lambda: TODAY)
    chat, other = overall.for_chat(CHAT, 400), overall.for_chat(OTHER, 700)
    await chat.spend(399)
    assert await chat.spent() is None
    await chat.spend(10)
    assert await chat.spent() == CHAT_BUDGET_SPENT
    assert await other.spent() is None  # the other chat still has its share
    await other.spend(600)
    assert await other.spent() == BUDGET_SPENT  # 1009 of 1000 in all
    assert await repository.llm_tokens_used(TODAY) == 1009
    assert await repository.llm_chat_tokens_used(TODAY, CHAT) == 409
    assert await overall.for_chat(CHAT, 400).spent() == BUDGET_SPENT


def test_the_share_is_an_equal_part_unless_set(tmp_path: Path) -> None:
    assert settings_for(tmp_path, LLM_DAILY_TOKEN_BUDGET="900", ALLOWED_CHATS="-1,-2,-3").llm_chat_token_share == 300
    assert settings_for(tmp_path, LLM_DAILY_TOKEN_BUDGET="900").llm_chat_token_share == 900
    assert settings_for(tmp_path, LLM_DAILY_TOKEN_BUDGET="900", LLM_CHAT_DAILY_TOKEN_BUDGET="600",
                        ALLOWED_CHATS="-1,-2,-3").llm_chat_token_share == 600
    assert settings_for(tmp_path).llm_chat_token_share == 0  # no budget, no share


async def test_a_member_has_n_a_day_with_a_cooldown(with_model: Services) -> None:
    start = datetime.now(UTC)
    first = await permit_resummarize(with_model, CHAT, MEMBER, administrator=False, now=start)
    assert first.granted
    cooling = await permit_resummarize(with_model, CHAT, MEMBER, administrator=False, now=start)
    assert cooling.refusal == Refusal.COOLDOWN and timedelta(seconds=50) < cooling.wait <= timedelta(seconds=60)
    assert (await permit_resummarize(with_model, CHAT, ANOTHER, administrator=False, now=start)).granted
    assert (await permit_resummarize(with_model, OTHER, MEMBER, administrator=False, now=start)).granted
    for minutes in (2, 4):
        assert (await permit_resummarize(with_model, CHAT, MEMBER, administrator=False,
                                         now=start + timedelta(minutes=minutes))).granted
    spent = await permit_resummarize(with_model, CHAT, MEMBER, administrator=False, now=start + timedelta(minutes=6))
    assert spent.refusal == Refusal.DAILY_LIMIT and spent.limit == 3
    assert timedelta(hours=23, minutes=50) < spent.wait <= timedelta(hours=24)
    assert (await permit_resummarize(with_model, CHAT, MEMBER, administrator=True,
                                     now=start + timedelta(minutes=6))).granted  # administrators: no count
    assert (await permit_resummarize(with_model, CHAT, MEMBER, administrator=False,
                                     now=start + timedelta(hours=24, minutes=1))).granted


async def test_no_uses_a_day_means_administrators_only(tmp_path: Path) -> None:
    services = await Services.open(settings_for(tmp_path, LLM_BASE_URL="http://127.0.0.1:9/v1", LLM_MODEL="m",
                                                RESUMMARIZE_MEMBER_DAILY="0"))
    try:
        assert (await permit_resummarize(services, CHAT, MEMBER, administrator=False)).refusal == Refusal.ADMINS_ONLY
        assert (await permit_resummarize(services, CHAT, MEMBER, administrator=True)).granted
    finally:
        await services.aclose()


async def test_a_spent_share_refuses_before_any_use_is_counted(with_model: Services) -> None:
    today = datetime.now(UTC).date()
    await with_model.repository.add_llm_chat_tokens(today, CHAT, 500)  # 1000 shared by two chats
    refused = await permit_resummarize(with_model, CHAT, MEMBER, administrator=True)
    assert refused.refusal == Refusal.CHAT_BUDGET and refused.limit == 500
    assert refused.wait is not None and refused.wait <= timedelta(hours=24)
    member = await permit_resummarize(with_model, CHAT, MEMBER, administrator=False)
    assert member.refusal == Refusal.CHAT_BUDGET
    uses = await with_model.repository.member_uses(CHAT, MEMBER, "resummarize", since=datetime.now(UTC) - timedelta(1))
    assert uses.count == 0
    await with_model.repository.add_llm_tokens(today, 1000)
    assert (await permit_resummarize(with_model, OTHER, MEMBER, administrator=True)).refusal == Refusal.BUDGET


async def test_without_a_model_there_is_nothing_to_permit(services: Services) -> None:
    assert (await permit_resummarize(services, CHAT, MEMBER, administrator=True)).refusal == Refusal.NO_MODEL
