"""The one command table. Each row names a command, its handler, and what it does and takes in
Ukrainian and English; Telegram's command menu, /help and the usage answers are made from it.

Commands are routed here rather than by CommandHandler because CommandHandler ignores channel
posts, and channels are where many desks work. A new command is one row here, one handler, the
use case it calls, and a render function.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import BotCommand, BotCommandScopeDefault, MessageEntity, Update
from telegram.ext import Application

from bot.telegram import handlers, links, monitoring, render, stories
from bot.telegram.context import Context, WrongArguments, language_of, message_of, reply

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context, str], Awaitable[None]]
Words = dict[str, str]
"""The same text in each language: {"uk": ..., "en": ...}."""


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    description: Words
    """What it does, in the menu and in /help."""
    arguments: Words = field(default_factory=dict)
    """How its arguments are written, after the command: "query", "HH:MM [Area/City]"."""
    details: Words = field(default_factory=dict)
    """More on the arguments, in the usage answer only."""
    in_menu: bool = True


async def help_command(update: Update, context: Context, argument: str) -> None:
    await reply(message_of(update), render.help_text(COMMANDS, await language_of(update, context)))


COMMANDS: tuple[Command, ...] = (
    Command("help", help_command, {"uk": "що вміє бот", "en": "what the bot does"}),
    Command("start", help_command, {"uk": "що вміє бот", "en": "what the bot does"}, in_menu=False),
    Command("add", links.add_command, {"uk": "додати статтю за посиланням", "en": "add an article by its link"},
            {"uk": "URL", "en": "URL"}),
    Command("latest", handlers.latest_command, {"uk": "останні матеріали", "en": "the latest items"},
            {"uk": "[N]", "en": "[N]"}, {"uk": "N — від 1 до 50", "en": "N from 1 to 50"}),
    Command("search", handlers.search_command, {"uk": "пошук у матеріалах", "en": "search the items"},
            {"uk": "запит", "en": "query"},
            {"uk": 'Підтримуються "фраза", OR, -слово, префікс*, source:, author:, lang:, after:РРРР-ММ-ДД, '
                   "before:РРРР-ММ-ДД",
             "en": 'Supported: "phrase", OR, -word, prefix*, source:, author:, lang:, after:YYYY-MM-DD, '
                   "before:YYYY-MM-DD"}),
    Command("item", handlers.item_command, {"uk": "картка матеріалу за номером", "en": "one item's card"},
            {"uk": "номер", "en": "number"}, {"uk": "напр. /item 12", "en": "e.g. /item 12"}),
    Command("stories", stories.stories_command,
            {"uk": "події за добу: скільки джерел про кожну", "en": "the last day's stories, by number of sources"}),
    Command("link", stories.link_command,
            {"uk": "об’єднати два матеріали в одну подію", "en": "join two items into one story"},
            {"uk": "номер номер", "en": "number number"},
            {"uk": "напр. /link 12 15 — №15 стане частиною події №12; вибір не змінюватиметься",
             "en": "e.g. /link 12 15 puts #15 in #12's story; the choice sticks"}),
    Command("unlink", stories.unlink_command,
            {"uk": "вилучити матеріал з події", "en": "take an item out of its story"},
            {"uk": "номер", "en": "number"},
            {"uk": "напр. /unlink 15 — №15 стане окремою подією; вибір не змінюватиметься",
             "en": "e.g. /unlink 15 makes #15 a story of its own; the choice sticks"}),
    Command("digest", handlers.digest_command, {"uk": "дайджест за сьогодні", "en": "today's digest"}),
    Command("schedule", handlers.schedule_command,
            {"uk": "щоденний дайджест: час і часовий пояс", "en": "the daily digest: time and time zone"},
            {"uk": "ГГ:ХХ [Зона/Місто]", "en": "HH:MM [Area/City]"},
            {"uk": "напр. /schedule 09:00 Europe/Kyiv; /schedule off | on | quiet | loud; "
                   "/schedule — поточний розклад",
             "en": "e.g. /schedule 09:00 Europe/Kyiv; /schedule off | on | quiet | loud; /schedule alone shows it"}),
    Command("stats", handlers.stats_command, {"uk": "статистика чату", "en": "the chat's statistics"}),
    Command("export", handlers.export_command,
            {"uk": "експорт: CSV, JSON, JSON Lines або Markdown", "en": "export as CSV, JSON, JSON Lines or Markdown"},
            {"uk": "[csv|json|jsonl|md]", "en": "[csv|json|jsonl|md]"},
            {"uk": "без формату — кнопки з вибором", "en": "without a format, buttons to choose one"}),
    Command("lang", handlers.lang_command, {"uk": "мова чату: uk або en", "en": "the chat's language: uk or en"},
            {"uk": "uk|en", "en": "uk|en"}),
    Command("id", handlers.id_command, {"uk": "ID цього чату і ваш", "en": "this chat's id and yours"}),
    Command("resummarize", handlers.resummarize_command,
            {"uk": "заново підсумувати матеріал мовною моделлю",
             "en": "summarise an item again with the language model"},
            {"uk": "номер", "en": "number"}, {"uk": "напр. /resummarize 12", "en": "e.g. /resummarize 12"}),
    Command("later", handlers.later_command,
            {"uk": "посилання, відкладені через ліміт", "en": "links put aside over the hourly limit"},
            {"uk": "[go|clear]", "en": "[go|clear]"},
            {"uk": "/later — список; /later go — надіслати їх, коли є місце; /later clear — забути (адміністратори)",
             "en": "/later lists them; /later go sends them on when there is room; /later clear forgets them "
                   "(administrators)"}),
    Command("follow", monitoring.follow_command,
            {"uk": "стежити за стрічкою або сайтом", "en": "follow a feed or a site"},
            {"uk": "URL [announce|digest]", "en": "URL [announce|digest]"},
            {"uk": "адреса стрічки RSS/Atom/JSON Feed або сторінки сайту, що її називає; announce — картка "
                   "кожного нового матеріалу в чат (типово), digest — лише в дайджест. Лише адміністратори.",
             "en": "the address of an RSS/Atom/JSON feed, or of a site page that names one; announce posts each "
                   "new item's card (the default), digest keeps them for the digest. Administrators only."}),
    Command("unfollow", monitoring.unfollow_command, {"uk": "більше не стежити за стрічкою",
                                                      "en": "stop following a feed"},
            {"uk": "номер", "en": "number"}),
    Command("feeds", monitoring.feeds_command, {"uk": "стрічки чату", "en": "the chat's feeds"},
            {"uk": "[opml]", "en": "[opml]"}),
    Command("watch", monitoring.watch_command,
            {"uk": "сповіщати про нові матеріали за запитом", "en": "alert on new items matching a query"},
            {"uk": "запит", "en": "query"},
            {"uk": 'запит як у /search: "фраза", OR, -слово, префікс*, source:, author:, lang:',
             "en": 'a query as in /search: "phrase", OR, -word, prefix*, source:, author:, lang:'}),
    Command("unwatch", monitoring.unwatch_command, {"uk": "прибрати стеження", "en": "remove a watch"},
            {"uk": "номер", "en": "number"}),
    Command("watches", monitoring.watches_command, {"uk": "стеження чату", "en": "the chat's watches"}),
)
BY_NAME = {command.name: command for command in COMMANDS}
LANGUAGES = ("uk", "en")


async def on_command(update: Update, context: Context) -> None:
    """Route /command[@bot] args to its handler, in messages and channel posts alike."""
    message = message_of(update)
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return
    name, _, addressee = text[1:entity.length].partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return  # meant for another bot
    command = BY_NAME.get(name.lower())
    if command is None:
        await reply(message, render.text("unknown", await language_of(update, context)))
        return
    argument = text[entity.length:].strip()
    context.args = argument.split()
    try:
        await command.handler(update, context, argument)
    except WrongArguments:
        await reply(message, render.usage(command, await language_of(update, context)))


async def register_menu(application: Application) -> None:
    """Telegram's command menu, in Ukrainian for Ukrainian users and English for the rest."""
    for language in LANGUAGES:
        menu = [BotCommand(c.name, c.description[language]) for c in COMMANDS if c.in_menu]
        await application.bot.set_my_commands(menu, scope=BotCommandScopeDefault(),
                                              language_code=None if language == "en" else language)
