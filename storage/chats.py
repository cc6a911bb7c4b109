"""Per-chat settings, the notice strangers get once, the language model's daily token count, and
the searches a chat pages through (a page button carries a short token for its query, which any
bot replica can read back)."""

from __future__ import annotations

import secrets
from datetime import UTC, date

from storage.base import Store
from storage.models import ChatSettings


class ChatStore(Store):
    async def remember_search(self, chat_id: int, query: str, *, keep: int) -> int:
        """A token for the chat's query (the same one for a query it searched recently); the chat's
        `keep` most recent searches are kept."""
        row = await self._fetchone(
            "SELECT token FROM remembered_searches WHERE chat_id = ? AND query = ? LIMIT 1", (chat_id, query))
        if row is not None:
            return int(row[0])
        token = secrets.randbelow(2**31 - 1) + 1
        await self._write(
            """INSERT INTO remembered_searches (chat_id, token, query, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (chat_id, token) DO UPDATE SET query = excluded.query, created_at = excluded.created_at""",
            (chat_id, str(token), query, self._clock().astimezone(UTC).isoformat()))  # to the microsecond: in order
        await self._write(
            """DELETE FROM remembered_searches WHERE chat_id = ? AND token NOT IN (
                   SELECT token FROM remembered_searches WHERE chat_id = ?
                   ORDER BY created_at DESC, token LIMIT ?)""",
            (chat_id, chat_id, keep))
        return token

    async def remembered_search(self, chat_id: int, token: int) -> str | None:
        """The query behind a page button's token, while the chat's recent searches keep it."""
        row = await self._fetchone(
            "SELECT query FROM remembered_searches WHERE chat_id = ? AND token = ?", (chat_id, str(token)))
        return str(row[0]) if row is not None else None

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
