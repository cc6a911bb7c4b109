"""The bot's words, in Ukrainian and English: interface texts and the reasons a link failed.

Texts are HTML templates: render.text() escapes every value put into them. What each command does
and takes is written in its row of the command table (commands.py), from which /help, the
command menu and usage answers are made.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "uk": {
        "processing": "⏳ Обробляю посилання…",
        "processing_many": "⏳ Обробляю посилань: {count}…",
        "already": "Уже збережено: {name}, {date}",
        "failed": "Не вдалося зберегти",
        "id": "№",
        "latest_empty": "Ще нічого не збережено. Надішліть посилання на статтю.",
        "latest_header": "Останні матеріали",
        "search_empty": "Нічого не знайдено за запитом «{query}».",
        "search_header": "Знайдено {total} за запитом «{query}»",
        "search_expired": "Цей пошук застарів — повторіть /search.",
        "not_found": "Матеріалу №{id} у цьому чаті немає.",
        "private": "Цей бот приватний і працює лише в дозволених чатах.",
        "unknown": "Невідома команда. Список команд: /help",
        "error": "Вибачте, щось пішло не так. Спробуйте ще раз пізніше.",
        "limit": "Забагато посилань за годину (ліміт {limit}). Пропущено: {count}.",
        "no_links": "Не бачу посилань. Приклад: /add https://example.com/article",
        "lang_set": "Мову чату змінено: українська.",
        "admins_only": "Змінювати налаштування чату можуть лише адміністратори.",
        "database_down": "База даних зараз недоступна; посилання збережу, щойно вона відновиться.",
        "export_caption": "Експорт: {count} матеріалів",
        "ids": "ID цього чату: <code>{chat}</code>",
        "ids_user": "Ваш ID користувача: <code>{user}</code>",
        "setup_private": ("Newsdesk ще не налаштовано: він нікого не обслуговує.\n\n"
                          "Ваш ID користувача: <code>{user}</code>\n"
                          "Щоб керувати ботом, додайте в .env рядок\n<code>ADMINS={user}</code>\n"
                          "і перезапустіть бота. Щоб він працював у групі чи каналі, додайте його туди, "
                          "надішліть там /id і впишіть ID чату в ALLOWED_CHATS."),
        "setup_group": ("Newsdesk ще не налаштовано для цього чату.\n\n"
                        "ID цього чату: <code>{chat}</code>\n"
                        "Щоб бот працював тут, додайте в .env рядок\n<code>ALLOWED_CHATS={chat}</code>\n"
                        "і перезапустіть бота."),
        "export_choose": "Експорт матеріалів чату ({count}). Оберіть формат:",
        "export_too_big": ("Експорт завеликий для Telegram ({size} МБ, межа {limit} МБ). "
                           "На сервері: newsdesk export --chat={chat} --format {format}"),
        "stats": ("<b>Статистика</b>\nМатеріалів: {items}\nДжерел: {sources}\nЗа 7 днів: {week}\n"
                  "Помилок: {failed}\nВ обробці: {pending}"),
        "digest_header": "<b>Дайджест за {date}</b> — матеріалів: {items}, джерел: {sources}",
        "digest_empty": "Дайджест за {date}: нових матеріалів немає.",
        "digest_footer": "Пошук по всіх матеріалах: /search",
        "schedule_on": ("Щоденний дайджест: о <b>{time}</b> ({zone}).\nНаступний: {next} за місцевим часом.\n"),
        "schedule_off": "Щоденний дайджест вимкнено (був о {time}, {zone}). Увімкнути: /schedule on",
        "schedule_loud": "У день без нових матеріалів прийде короткий рядок про це (вимкнути: /schedule quiet).",
        "schedule_quiet": "У день без нових матеріалів бот промовчить (увімкнути: /schedule loud).",
        "schedule_none": "Щоденний дайджест не налаштовано. Приклад: /schedule 09:00 Europe/Kyiv",
        "schedule_bad_zone": "Невідомий часовий пояс «{zone}». Приклади: Europe/Kyiv, Europe/Warsaw, America/New_York",
        "no_model": "Мовну модель не налаштовано (LLM_BASE_URL, LLM_MODEL).",
        "page_prev": "◀ Назад",
        "page_next": "Далі ▶",
        "usage": "Використання: {usage}",
        "feed_checking": "⏳ Перевіряю стрічку…",
        "feed_followed": ("✅ Стежу за стрічкою №{id}: <b>{title}</b>\n{url}\n"
                          "Режим: {mode}. Перше опитування: нових записів {count}."),
        "feed_already": "ℹ️ Стрічка №{id} уже тут: <b>{title}</b>\nРежим: {mode}.",
        "feed_others": "На сторінці є й інші стрічки (додати: /follow адреса):",
        "feed_problem": "⚠️ Не вдалося підписатися на {url}\n{reason}",
        "feed_not_a_feed": "це не стрічка RSS, Atom чи JSON Feed, і сторінка не називає жодної",
        "feed_too_costly": "стрічку не вдалося прочитати вчасно",
        "feed_unfollowed": "Більше не стежу за стрічкою №{id}: {title}. Її матеріали лишаються.",
        "feed_unknown": "Стрічки №{id} у цьому чаті немає. Список: /feeds",
        "feeds_empty": "Чат ще не стежить за жодною стрічкою. Приклад: /follow https://example.com/rss.xml",
        "feeds_header": "<b>Стрічки чату</b> ({count})",
        "feed_line": ("№{id} <b>{title}</b> · {mode}{paused}\n{url}\nперевірено: {checked} · новий запис: {new} · "
                      "помилок: {errors} · наступна перевірка: {next}"),
        "feed_error_line": "остання помилка: {error}",
        "feed_paused_mark": " · ⏸ призупинено",
        "never": "ще ні",
        "mode_announce": "картки в чат",
        "mode_digest": "лише в дайджест",
        "feeds_opml_caption": "Стрічки чату в OPML: {count}",
        "feed_capped": ("⚠️ Стрічка «{title}» принесла одразу {new} нових записів. Взято найновіші {taken}, "
                        "пропущено {skipped}."),
        "feed_failing": "⚠️ Стрічка «{title}» не відповідає вже добу: {error}\n{url}",
        "feed_paused": ("⏸ Стрічку «{title}» призупинено: вона не відповідає вже тиждень ({error}). "
                        "Відновити: /follow {url}"),
        "from_feed": "📰 Текст зі стрічки: сторінку статті не вдалося завантажити",
        "watch_set": "🔔 Стеження №{id}: «{query}». Сповіщу про нові матеріали, що йому відповідають.",
        "watch_already": "ℹ️ Стеження №{id} «{query}» уже є.",
        "watch_no_words": "Стеженню потрібне хоча б одне слово для пошуку (самих фільтрів чи винятків замало).",
        "watch_too_long": "Запит задовгий для стеження.",
        "watch_too_many": "У чаті вже {limit} стежень — це найбільше. Приберіть зайві: /unwatch номер",
        "watch_removed": "Стеження №{id} «{query}» прибрано.",
        "watch_unknown": "Стеження №{id} у цьому чаті немає. Список: /watches",
        "watches_empty": "Стежень немає. Приклад: /watch \"зернова угода\" -туреччина",
        "watches_header": "<b>Стеження чату</b> ({count})",
        "alert_header": "🔔 Спрацювало стеження {watches}",
        "help_intro": ("<b>Newsdesk</b> збирає статті за посиланнями, які ви надсилаєте в чат, і робить з них "
                       "картки з коротким змістом.\n\nПросто надішліть посилання (можна кілька) або /add URL."),
    },
    "en": {
        "processing": "⏳ Processing the link…",
        "processing_many": "⏳ Processing {count} links…",
        "already": "Already saved by {name} on {date}",
        "failed": "Could not save",
        "id": "#",
        "latest_empty": "Nothing saved yet. Send a link to an article.",
        "latest_header": "Latest items",
        "search_empty": "Nothing found for “{query}”.",
        "search_header": "{total} found for “{query}”",
        "search_expired": "This search has expired — run /search again.",
        "not_found": "There is no item #{id} in this chat.",
        "private": "This bot is private and works only in allowed chats.",
        "unknown": "Unknown command. See /help",
        "error": "Sorry, something went wrong. Please try again later.",
        "limit": "Too many links this hour (limit {limit}). Skipped: {count}.",
        "no_links": "I see no links. Example: /add https://example.com/article",
        "lang_set": "The chat's language is now English.",
        "admins_only": "Only the chat's administrators can change its settings.",
        "database_down": "The database is unavailable right now; links will be saved once it is back.",
        "export_caption": "Export: {count} items",
        "ids": "This chat's id: <code>{chat}</code>",
        "ids_user": "Your user id: <code>{user}</code>",
        "setup_private": ("Newsdesk is not set up yet: it serves nobody.\n\n"
                          "Your user id: <code>{user}</code>\n"
                          "To run the bot, add this line to .env\n<code>ADMINS={user}</code>\n"
                          "and restart it. To use it in a group or channel, add it there, send /id there "
                          "and put the chat's id in ALLOWED_CHATS."),
        "setup_group": ("Newsdesk is not set up for this chat.\n\n"
                        "This chat's id: <code>{chat}</code>\n"
                        "To have the bot work here, add this line to .env\n<code>ALLOWED_CHATS={chat}</code>\n"
                        "and restart the bot."),
        "export_choose": "Export this chat's items ({count}). Choose a format:",
        "export_too_big": ("The export is too large for Telegram ({size} MB, the limit is {limit} MB). "
                           "On the server: newsdesk export --chat={chat} --format {format}"),
        "stats": ("<b>Statistics</b>\nItems: {items}\nSources: {sources}\nLast 7 days: {week}\n"
                  "Failures: {failed}\nPending: {pending}"),
        "digest_header": "<b>Digest for {date}</b> — {items} items from {sources} sources",
        "digest_empty": "Digest for {date}: no new items.",
        "digest_footer": "Search everything: /search",
        "schedule_on": ("Daily digest at <b>{time}</b> ({zone}).\nNext: {next} local time.\n"),
        "schedule_off": "The daily digest is off (it was at {time}, {zone}). Turn it on: /schedule on",
        "schedule_loud": "On a day with no new items a one-line note is sent (silence it: /schedule quiet).",
        "schedule_quiet": "On a day with no new items nothing is sent (undo: /schedule loud).",
        "schedule_none": "No daily digest is set. Example: /schedule 09:00 Europe/Kyiv",
        "schedule_bad_zone": "Unknown time zone “{zone}”. Examples: Europe/Kyiv, Europe/Warsaw, America/New_York",
        "no_model": "No language model is configured (LLM_BASE_URL, LLM_MODEL).",
        "page_prev": "◀ Back",
        "page_next": "Next ▶",
        "usage": "Usage: {usage}",
        "feed_checking": "⏳ Checking the feed…",
        "feed_followed": ("✅ Following feed #{id}: <b>{title}</b>\n{url}\n"
                          "Mode: {mode}. First poll: {count} new entries."),
        "feed_already": "ℹ️ Feed #{id} is already followed here: <b>{title}</b>\nMode: {mode}.",
        "feed_others": "The page names other feeds too (add one: /follow address):",
        "feed_problem": "⚠️ Could not follow {url}\n{reason}",
        "feed_not_a_feed": "this is not an RSS, Atom or JSON feed, and the page names none",
        "feed_too_costly": "the feed could not be read in time",
        "feed_unfollowed": "No longer following feed #{id}: {title}. Its items stay.",
        "feed_unknown": "There is no feed #{id} in this chat. See /feeds",
        "feeds_empty": "This chat follows no feeds yet. Example: /follow https://example.com/rss.xml",
        "feeds_header": "<b>The chat's feeds</b> ({count})",
        "feed_line": ("#{id} <b>{title}</b> · {mode}{paused}\n{url}\nchecked: {checked} · last new entry: {new} · "
                      "errors: {errors} · next check: {next}"),
        "feed_error_line": "last error: {error}",
        "feed_paused_mark": " · ⏸ paused",
        "never": "not yet",
        "mode_announce": "cards in the chat",
        "mode_digest": "digest only",
        "feeds_opml_caption": "The chat's feeds as OPML: {count}",
        "feed_capped": ("⚠️ The feed “{title}” brought {new} new entries at once. The newest {taken} were taken, "
                        "{skipped} skipped."),
        "feed_failing": "⚠️ The feed “{title}” has been failing for a day: {error}\n{url}",
        "feed_paused": ("⏸ The feed “{title}” is paused: it has been failing for a week ({error}). "
                        "Resume it: /follow {url}"),
        "from_feed": "📰 Taken from the feed: the article's page could not be read",
        "watch_set": "🔔 Watch #{id}: “{query}”. New items that match it will be announced.",
        "watch_already": "ℹ️ Watch #{id} “{query}” already exists.",
        "watch_no_words": "A watch needs at least one word to look for (filters or exclusions alone are not enough).",
        "watch_too_long": "The query is too long for a watch.",
        "watch_too_many": "This chat has {limit} watches, the most it may. Remove some: /unwatch number",
        "watch_removed": "Watch #{id} “{query}” removed.",
        "watch_unknown": "There is no watch #{id} in this chat. See /watches",
        "watches_empty": "No watches yet. Example: /watch \"grain deal\" -turkey",
        "watches_header": "<b>The chat's watches</b> ({count})",
        "alert_header": "🔔 Watch matched: {watches}",
        "help_intro": ("<b>Newsdesk</b> collects the articles you link in this chat and turns them into cards "
                       "with a short summary.\n\nJust send links (several at once is fine) or /add URL."),
    },
}

REASONS: dict[str, dict[str, str]] = {
    "uk": {
        "blocked_address": "адреса веде до внутрішньої мережі — такі сторінки не завантажую",
        "timeout": "сторінка відповідала надто довго",
        "too_large": "сторінка завелика",
        "unsupported_content": "це не вебсторінка зі статтею",
        "no_article": "на сторінці не знайдено тексту статті",
        "invalid_url": "це не схоже на вебадресу",
        "network_error": "не вдалося з'єднатися з сайтом",
        "too_many_redirects": "забагато перенаправлень",
        "extract_timeout": "сторінку не вдалося розібрати вчасно",
        "internal_error": "внутрішня помилка",
    },
    "en": {
        "blocked_address": "the address leads to a private network — such pages are not fetched",
        "timeout": "the page took too long to answer",
        "too_large": "the page is too large",
        "unsupported_content": "this is not a web page with an article",
        "no_article": "no article text found on the page",
        "invalid_url": "this does not look like a web address",
        "network_error": "could not connect to the site",
        "too_many_redirects": "too many redirects",
        "extract_timeout": "the page could not be read in time",
        "internal_error": "internal error",
    },
}
