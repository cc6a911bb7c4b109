"""Services: the long-lived resources of one process, opened together and closed together.

The bot, the command line and the jobs all reach storage, the fetcher, the worker pool and the
language model through one `Services`; the use cases in bot/desk/ take it as their first argument.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta

from bot.config import Settings
from bot.desk.links import Intake
from bot.pipeline.fetch import Fetcher
from bot.pipeline.ingest import DEFAULT_LEASE, Ingestor, process_owner
from bot.pipeline.stories import Grouping, regroup_translated
from bot.pipeline.summarise_llm import LlmSummariser
from bot.pipeline.translate import translate_item
from bot.pipeline.workers import WorkerPool
from storage.errors import StorageUnavailable
from storage.models import DONE, Item
from storage.repository import Repository

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    repository: Repository
    fetcher: Fetcher
    workers: WorkerPool
    ingestor: Ingestor
    summariser: LlmSummariser | None = None
    """The language model that translates titles and summaries, when one is configured."""
    intake: Intake = field(default_factory=Intake)
    """This process's state of link submission: one chat at a time, links held through a fault."""

    @property
    def owner(self) -> str:
        """This process's name on the leases and chat turns it holds (storage/leases.py)."""
        return self.ingestor.owner

    @classmethod
    async def open(cls, settings: Settings, *, lease: timedelta | None = None) -> Services:
        """Open every resource; `lease`: how long this process's claims on links last unless renewed."""
        repository = await Repository.open(settings.database)
        fetcher = Fetcher(settings)
        workers = WorkerPool(
            workers=settings.extract_workers,
            timeout=settings.extract_timeout,
            memory_mb=settings.extract_memory_mb,
        )
        ingestor = Ingestor(
            repository=repository,
            fetcher=fetcher,
            workers=workers,
            concurrency=settings.ingest_concurrency,
            telegram_preview_url=settings.telegram_preview_url,
            grouping=Grouping(window=timedelta(days=settings.story_window_days)),
            owner=process_owner(),
            lease=lease or DEFAULT_LEASE,
        )
        summariser = (
            LlmSummariser.from_settings(settings, repository=repository) if settings.llm_enabled else None
        )
        return cls(settings, repository, fetcher, workers, ingestor, summariser)

    async def translate(self, item: Item, *, language: str) -> Item:
        """The item with the model's title and summary in `language`, spent from its chat's share
        of the day's tokens; unchanged without a model."""
        if self.summariser is None or item.status != DONE:
            return item
        translated = await translate_item(self.repository, self.chat_summariser(item.chat_id), item, language=language)
        if translated.title_translated and translated.title_translated != item.title_translated:
            # across languages, a story is found by the translated title
            story_id = await regroup_translated(self.repository, translated, self.ingestor.grouping)
            translated = replace(translated, story_id=story_id)
        return translated

    def chat_summariser(self, chat_id: int) -> LlmSummariser:
        """The language model as one chat uses it: its spending counted against its daily share."""
        assert self.summariser is not None
        return self.summariser.for_chat(chat_id, share=self.settings.llm_chat_token_share)

    async def language_of(self, chat_id: int) -> str:
        """The chat's interface and summary language (the default while storage is unavailable)."""
        try:
            chosen = (await self.repository.chat_settings(chat_id)).language
        except StorageUnavailable as error:
            log.warning("chat %s: language unknown while the database is unavailable (%s)", chat_id, error)
            chosen = None
        return chosen or self.settings.default_language

    async def let_go(self) -> None:
        """Give up this process's leases on links and turns on chats: another process takes them
        over at once instead of when they expire."""
        if not self.repository.shares_work:
            return
        try:
            await self.repository.release(self.owner)
            await self.repository.give_up_chat_turns(self.owner)
        except StorageUnavailable as error:
            log.warning("leases not released (they expire on their own): %s", error)

    async def aclose(self) -> None:
        await self.let_go()
        if self.summariser is not None:
            await self.summariser.aclose()
        await self.fetcher.aclose()
        await self.workers.aclose()
        await self.repository.close()
