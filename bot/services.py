"""Services: the long-lived resources of one process, opened together and closed together."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.pipeline.fetch import Fetcher
from bot.pipeline.ingest import Ingestor
from bot.pipeline.workers import WorkerPool
from storage.repository import Repository


@dataclass
class Services:
    settings: Settings
    repository: Repository
    fetcher: Fetcher
    workers: WorkerPool
    ingestor: Ingestor

    @classmethod
    async def open(cls, settings: Settings) -> Services:
        repository = await Repository.open(settings.database_path)
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
        )
        return cls(settings, repository, fetcher, workers, ingestor)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        await self.workers.aclose()
        await self.repository.close()
