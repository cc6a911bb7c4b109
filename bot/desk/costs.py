"""What a member may spend of everyone's resources: asking the language model again.

`permit_resummarize` decides, before any call is made, whether a member may have an item
summarised again. Administrators may, while the chat's share of the day's tokens and the overall
budget last; other members RESUMMARIZE_MEMBER_DAILY times in 24 hours, no sooner than
RESUMMARIZE_COOLDOWN_SECONDS apart (0 a day: administrators only). Uses are claimed in the
database, checked and recorded in one statement, so they hold across restarts and processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.clock import utc_now
from bot.pipeline.summarise_llm import CHAT_BUDGET_SPENT

if TYPE_CHECKING:
    from bot.services import Services

RESUMMARIZE = "resummarize"
DAY = timedelta(hours=24)


class Refusal(StrEnum):
    NO_MODEL = "no_model"
    BUDGET = "budget"
    """The day's overall token budget is spent."""
    CHAT_BUDGET = "chat_budget"
    """The chat's share of the day's tokens is spent."""
    ADMINS_ONLY = "admins_only"
    DAILY_LIMIT = "daily_limit"
    COOLDOWN = "cooldown"


@dataclass(frozen=True)
class Permit:
    """Whether the model may be asked; if not, why, and how long until it may."""

    refusal: Refusal | None = None
    wait: timedelta | None = None
    limit: int = 0
    """The limit that refused: tokens for a budget, uses for the daily limit, seconds for a cooldown."""

    @property
    def granted(self) -> bool:
        return self.refusal is None


async def permit_resummarize(services: Services, chat_id: int, user_id: int | None, *, administrator: bool,
                             now: datetime | None = None) -> Permit:
    """May this member ask the model again for an item's summary now? A member's use is recorded
    when granted."""
    now = now or utc_now()
    settings = services.settings
    if services.summariser is None:
        return Permit(Refusal.NO_MODEL)
    budget = services.chat_summariser(chat_id).budget
    spent = await budget.spent() if budget is not None else None
    if spent is not None:
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
        chat_share = spent == CHAT_BUDGET_SPENT
        return Permit(Refusal.CHAT_BUDGET if chat_share else Refusal.BUDGET, midnight - now,
                      settings.llm_chat_token_share if chat_share else settings.llm_daily_token_budget)
    if administrator or user_id is None:
        return Permit()
    most = settings.resummarize_member_daily
    if most == 0:
        return Permit(Refusal.ADMINS_ONLY)
    cooldown = timedelta(seconds=settings.resummarize_cooldown_seconds)
    repository = services.repository
    if await repository.claim_member_action(chat_id, user_id, RESUMMARIZE, window_start=now - DAY, most=most,
                                            quiet_since=now - cooldown, now=now):
        return Permit()
    uses = await repository.member_uses(chat_id, user_id, RESUMMARIZE, since=now - DAY)
    if uses.count >= most and uses.first is not None:
        return Permit(Refusal.DAILY_LIMIT, uses.first + DAY - now, most)
    last = uses.last or now
    return Permit(Refusal.COOLDOWN, max(last + cooldown - now, timedelta(seconds=1)),
                  int(settings.resummarize_cooldown_seconds))
