"""Briefs by a language model: a translated title and a 3–5 sentence summary in the chat's language.

`LlmSummariser` talks to any OpenAI-compatible chat-completions endpoint (POST
{base_url}/chat/completions: OpenAI, Ollama, llama.cpp, vLLM, ...) and asks for a JSON object
{"title", "summary"} under a strict JSON schema. The instructions are `PROMPT` in briefs.py, in one place.

A reply is used only when it passes `check_brief`: a JSON object with a non-empty title and summary,
in the asked language (judged by its letters), of bounded length and 2–6 sentences. A reply that
fails is asked for once more. Whatever goes wrong ends in the extractive summary of the article,
with `Summary.fallback_reason` saying why, one of:

    llm: daily token budget spent
    llm: the chat's daily token share spent            LLM_CHAT_DAILY_TOKEN_BUDGET, or an equal share
    llm: no answer within 60 s                         a request timed out (not retried)
    llm: gave up after 180 s                           the whole call, retries included, took too long
    llm: could not reach the endpoint (ConnectError)   refused connection, DNS, broken TLS (not retried)
    llm: the endpoint answered HTTP 503, 3 times       429 and 5xx are retried with backoff
    llm: the endpoint asked to wait 600 s (HTTP 429)   a Retry-After longer than the call may last
    llm: the endpoint answered HTTP 401                other errors are not retried
    llm: the endpoint's response is not a chat completion
    llm: reply is not a JSON object                    ... and the other `InvalidReply` reasons:
    llm: reply has an empty title / summary, reply in the wrong language (expected uk),
    llm: reply too long (summary over 1500 characters), summary has 9 sentences (expected 2–6)

Tokens are counted per UTC day by `TokenBudget`, in the database; once a day's budget is spent no
request is made until the next day. The API key goes only into the Authorization header of each
request; it is never logged or shown in a repr.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

import httpx

from bot.config import Settings
from bot.pipeline.briefs import (
    BRIEF_SCHEMA,
    LANGUAGES,
    PROMPT,
    RETRY,
    Brief,
    InvalidReply,
    LlmFailure,
    build_messages,
    check_brief,
    clip_text,
    is_in_language,
)
from bot.pipeline.models import Article, Summary
from bot.pipeline.summarise import summarise_extractive
from storage.repository import Repository

log = logging.getLogger(__name__)

TEMPERATURE = 0.2

MAX_REPLY_TOKENS = 1500

MAX_ATTEMPTS = 3
"""Requests per reply when the endpoint answers 429 or 5xx."""

BUDGET_SPENT = "daily token budget spent"

CHAT_BUDGET_SPENT = "the chat's daily token share spent"

def utc_today() -> date:
    return datetime.now(UTC).date()

class TokenBudget:
    """Tokens spent on the model per UTC day, kept in the database; a limit of 0 means none.

    With `chat_id`, the chat's own spending is counted too and held to `chat_limit`, its share of
    the day, so one chat cannot spend what all chats share."""

    def __init__(
        self, repository: Repository, daily_limit: int, *, today: Callable[[], date] = utc_today,
        chat_id: int | None = None, chat_limit: int = 0,
    ) -> None:
        self.repository = repository
        self.daily_limit = daily_limit
        self.chat_id = chat_id
        self.chat_limit = chat_limit
        self._today = today
        self._reported: dict[int | None, date] = {}
        """The day the log last said a budget (None: the overall one) was spent, per chat."""

    def for_chat(self, chat_id: int, chat_limit: int) -> TokenBudget:
        """The same overall budget, with `chat_id`'s share held to `chat_limit` as well."""
        budget = TokenBudget(self.repository, self.daily_limit, today=self._today, chat_id=chat_id,
                             chat_limit=chat_limit)
        budget._reported = self._reported  # one log line a day per budget, not per call
        return budget

    async def allows(self) -> bool:
        """True while today's budget (and the chat's share) is not spent."""
        return await self.spent() is None

    async def spent(self) -> str | None:
        """Why nothing more may be spent today (BUDGET_SPENT, CHAT_BUDGET_SPENT), or None; says so
        in the log once a day when it is."""
        day = self._today()
        if self.daily_limit > 0 and (used := await self.repository.llm_tokens_used(day)) >= self.daily_limit:
            self._report(None, day, f"language-model budget spent for {day} ({used} of {self.daily_limit} tokens)")
            return BUDGET_SPENT
        if self.chat_id is not None and self.chat_limit > 0:
            used = await self.repository.llm_chat_tokens_used(day, self.chat_id)
            if used >= self.chat_limit:
                self._report(self.chat_id, day, f"chat {self.chat_id} spent its language-model share for {day} "
                                                f"({used} of {self.chat_limit} tokens)")
                return CHAT_BUDGET_SPENT
        return None

    def _report(self, key: int | None, day: date, message: str) -> None:
        if self._reported.get(key) != day:
            self._reported[key] = day
            log.warning("%s: extractive summaries until 00:00 UTC", message)

    async def spend(self, tokens: int) -> int:
        """Count tokens against today (and the chat's share); return today's total."""
        total = await self.repository.add_llm_tokens(self._today(), tokens)
        if self.chat_id is not None:
            await self.repository.add_llm_chat_tokens(self._today(), self.chat_id, tokens)
        return total

class LlmSummariser:
    """A `Summariser` that asks an OpenAI-compatible endpoint for a translated brief."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 60.0,
        max_input_chars: int = 12_000,
        concurrency: int = 2,
        budget: TokenBudget | None = None,
        client: httpx.AsyncClient | None = None,
        deadline: float | None = None,
        backoff: float = 1.0,
    ) -> None:
        """`deadline` bounds one call, retries included (default 3 × timeout); `backoff` is the first wait."""
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout = timeout
        self.max_input_chars = max_input_chars
        self.deadline = deadline if deadline is not None else 3 * timeout
        self.backoff = backoff
        self.budget = budget
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._owns_client = client is None
        # Its own client, not the fetcher's: that one refuses private addresses such as a local model.
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._slots = asyncio.Semaphore(concurrency)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, repository: Repository, client: httpx.AsyncClient | None = None
    ) -> LlmSummariser:
        """The summariser the LLM_* settings describe, counting tokens in `repository`."""
        return cls(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout,
            max_input_chars=settings.llm_max_input_chars,
            concurrency=settings.llm_concurrency,
            budget=TokenBudget(repository, settings.llm_daily_token_budget),
            client=client,
        )

    def __repr__(self) -> str:
        return f"LlmSummariser(url={self.url!r}, model={self.model!r})"

    def for_chat(self, chat_id: int, *, share: int) -> LlmSummariser:
        """This summariser (same client and slots) with `chat_id`'s spending held to `share` tokens a day."""
        twin = copy.copy(self)
        twin._owns_client = False
        if self.budget is not None:
            twin.budget = self.budget.for_chat(chat_id, share)
        return twin

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def summarise(self, article: Article, *, language: str) -> Summary:
        """A translated brief of `article` in `language`, or its extractive summary and the reason."""
        if language not in LANGUAGES:
            raise ValueError(f"no briefs in {language!r}; one of {', '.join(LANGUAGES)}")
        messages = build_messages(article, language=language, max_input_chars=self.max_input_chars)
        # A slot is held for the whole call, backoff included: while the endpoint is asking us
        # to slow down, the other calls wait too.
        async with self._slots:
            try:
                async with asyncio.timeout(self.deadline) as scope:
                    brief = await self._ask(messages, language, give_up_at=scope.when() or 0.0)
            except TimeoutError:
                reason = f"gave up after {self.deadline:g} s"
            except LlmFailure as failure:
                reason = str(failure)
            else:
                return Summary(brief.summary, language=language, source="llm", title_translated=brief.title)
        if reason not in (BUDGET_SPENT, CHAT_BUDGET_SPENT):
            log.info("language-model brief of %r not used: %s", article.title[:80], reason)
        text = await asyncio.to_thread(summarise_extractive, article.text)
        return Summary(text, language=article.language, source="extractive", fallback_reason=f"llm: {reason}")

    async def _ask(self, messages: list[dict[str, str]], language: str, *, give_up_at: float) -> Brief:
        """Ask for a brief; a reply that fails `check_brief` is asked for once more."""
        for attempt in (1, 2):
            if self.budget is not None and (spent := await self.budget.spent()):
                raise LlmFailure(spent)
            try:
                return check_brief(await self._complete(messages, give_up_at=give_up_at), language)
            except InvalidReply as problem:
                if attempt == 2:
                    raise
                log.info("language-model reply refused (%s); asking once more", problem)
                note = RETRY.format(problem=problem, language=LANGUAGES[language].name)
                messages = [*messages, {"role": "user", "content": note}]
        raise AssertionError("unreachable")

    async def _complete(self, messages: list[dict[str, str]], *, give_up_at: float) -> str:
        """One chat completion's content; 429 and 5xx are retried, honouring Retry-After."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": TEMPERATURE,
            "max_tokens": MAX_REPLY_TOKENS,
            "response_format": BRIEF_SCHEMA,
        }
        loop = asyncio.get_running_loop()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = await self._client.post(
                    self.url, json=payload, headers=self._headers, timeout=self.timeout
                )
            except httpx.TimeoutException:
                raise LlmFailure(f"no answer within {self.timeout:g} s") from None
            except httpx.TransportError as error:
                raise LlmFailure(f"could not reach the endpoint ({type(error).__name__})") from None
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt == MAX_ATTEMPTS:
                    raise LlmFailure(f"the endpoint answered HTTP {status}, {MAX_ATTEMPTS} times")
                wait = _retry_after(response)
                if wait is None:
                    wait = self.backoff * 2 ** (attempt - 1)
                if loop.time() + wait > give_up_at:
                    raise LlmFailure(f"the endpoint asked to wait {wait:g} s (HTTP {status})")
                await asyncio.sleep(wait)
                continue
            if status != 200:
                raise LlmFailure(f"the endpoint answered HTTP {status}")
            return await self._content(response, messages)
        raise AssertionError("unreachable")

    async def _content(self, response: httpx.Response, messages: list[dict[str, str]]) -> str:
        """The reply's text, after counting the tokens it cost."""
        try:
            data = response.json()
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise InvalidReply("the endpoint's response is not a chat completion") from None
        content = content if isinstance(content, str) else ""
        usage = data.get("usage") if isinstance(data, dict) else None
        tokens = usage.get("total_tokens") if isinstance(usage, dict) else None
        if not isinstance(tokens, int) or tokens < 0:
            # No usage reported: about four characters a token, question and answer together.
            tokens = (sum(len(message["content"]) for message in messages) + len(content)) // 4
        if self.budget is not None:
            await self.budget.spend(tokens)
        return content

def _retry_after(response: httpx.Response) -> float | None:
    """The wait a Retry-After header asks for, in seconds (the HTTP-date form is ignored)."""
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None

__all__ = [
    "PROMPT", "Brief", "InvalidReply", "LlmFailure", "LlmSummariser", "TokenBudget",
    "build_messages", "check_brief", "clip_text", "is_in_language",
]

