"""What chats and members spend: each chat's language-model tokens per UTC day (its share of
LLM_DAILY_TOKEN_BUDGET; the overall total is in chats.py), and the costly commands each member
has used, for per-member daily limits and cooldowns.

A member's use is claimed in one statement that checks the limit and the cooldown and records
the use together, so two commands arriving at once cannot both slip through.
"""

from __future__ import annotations

from datetime import date, datetime

from storage.base import Store, instant, iso
from storage.models import MemberUse


class CostStore(Store):
    async def llm_chat_tokens_used(self, day: date, chat_id: int) -> int:
        row = await self._fetchone(
            "SELECT tokens FROM llm_chat_usage WHERE day = ? AND chat_id = ?", (day.isoformat(), chat_id))
        return int(row["tokens"]) if row else 0

    async def add_llm_chat_tokens(self, day: date, chat_id: int, tokens: int) -> int:
        """Count tokens a chat spent on `day`; return the chat's total for the day."""
        await self._write(
            """INSERT INTO llm_chat_usage (day, chat_id, tokens, calls) VALUES (?, ?, ?, 1)
               ON CONFLICT (day, chat_id) DO UPDATE SET tokens = llm_chat_usage.tokens + excluded.tokens,
                   calls = llm_chat_usage.calls + 1""",
            (day.isoformat(), chat_id, tokens),
        )
        return await self.llm_chat_tokens_used(day, chat_id)

    async def claim_member_action(self, chat_id: int, user_id: int, action: str, *, window_start: datetime,
                                  most: int, quiet_since: datetime, now: datetime | None = None) -> bool:
        """Record a use of `action` by a member (at `now`) if they used it fewer than `most` times
        since `window_start` and not at all since `quiet_since` (the cooldown); True when recorded."""
        where = "chat_id = ? AND user_id = ? AND action = ?"
        return await self._write(
            f"""INSERT INTO member_actions (chat_id, user_id, action, at)
                SELECT ?, ?, ?, ?
                WHERE (SELECT count(*) FROM member_actions WHERE {where} AND at >= ?) < ?
                  AND NOT EXISTS (SELECT 1 FROM member_actions WHERE {where} AND at > ?)""",
            (chat_id, user_id, action, iso(now) if now else self._now(), chat_id, user_id, action,
             iso(window_start), most,
             chat_id, user_id, action, iso(quiet_since)),
        ) == 1

    async def member_uses(self, chat_id: int, user_id: int, action: str, *, since: datetime) -> MemberUse:
        """How often a member used `action` since `since`, the first and the last time."""
        row = await self._fetchone(
            """SELECT count(*) AS n, min(at) AS first, max(at) AS last FROM member_actions
               WHERE chat_id = ? AND user_id = ? AND action = ? AND at >= ?""",
            (chat_id, user_id, action, iso(since)),
        )
        if row is None:
            return MemberUse(0)
        return MemberUse(row["n"], instant(row["first"]), instant(row["last"]))
