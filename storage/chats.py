"""Per-chat settings, the notice strangers get once, and the language model's daily token count."""

from __future__ import annotations

from datetime import date

from storage.base import Store
from storage.models import ChatSettings


class ChatStore(Store):
    async def chat_settings(self, chat_id: int) -> ChatSettings:
        row = await self._fetchone("SELECT * FROM chats WHERE chat_id = ?", (chat_id,))
        return ChatSettings(chat_id, language=row["language"] if row else None)

    async def set_chat_language(self, chat_id: int, language: str) -> None:
        await self._write(
            """INSERT INTO chats (chat_id, language, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language,
                   updated_at = excluded.updated_at""",
            (chat_id, language, self._now()),
        )

    async def note_denied(self, chat_id: int) -> bool:
        """Remember that a stranger chat was told the bot is private; True only the first time."""
        now = self._now()
        changed = await self._write(
            """INSERT INTO chats (chat_id, denied_notice_at, updated_at) VALUES (?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET denied_notice_at = excluded.denied_notice_at
               WHERE chats.denied_notice_at IS NULL""",
            (chat_id, now, now),
        )
        return changed == 1

    async def llm_tokens_used(self, day: date) -> int:
        row = await self._fetchone("SELECT tokens FROM llm_usage WHERE day = ?", (day.isoformat(),))
        return int(row["tokens"]) if row else 0

    async def add_llm_tokens(self, day: date, tokens: int) -> int:
        """Count tokens spent on `day`; return the day's total."""
        await self._write(
            """INSERT INTO llm_usage (day, tokens, calls) VALUES (?, ?, 1)
               ON CONFLICT (day) DO UPDATE SET tokens = llm_usage.tokens + excluded.tokens,
                   calls = llm_usage.calls + 1""",
            (day.isoformat(), tokens),
        )
        return await self.llm_tokens_used(day)
