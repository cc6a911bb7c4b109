"""Generated news items with a natural (Zipf) word distribution, English and Ukrainian, as the
JSON Lines that `newsdesk load` reads. Deterministic for a seed; the words are common words of
each language plus made-up ones for the long tail, so that word frequencies fall off as in
real text (a few words in every item, ~1% words, rare words). No one's text is copied.

    .venv/bin/python bench/textgen.py N OUT.jsonl [--seed 1] [--chat -100500] [--other-chat -100600]

95% of items go to --chat, the rest to --other-chat; 90% English, 10% Ukrainian.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

ENGLISH = """the of and to a in that is for it on was with he as at by this from his be have are but
not or had an they which you were one we all their has been would there will said more when who
its what about so out up if new can than other into some could them only over after also two time
year people government minister president country state said city police report war military
economy market energy prices talks deal election court law security forces officials company
percent week month attack border region support plan first last public national international
foreign leaders capital parliament agreement crisis million billion growth trade bank policy
health water power gas oil grain ports exports sanctions aid troops drone missile ceasefire
negotiations summit vote campaign opposition protest investigation ruling budget tax inflation
interest rate investors shares climate emissions heat flood storm refugees hospital schools
students teachers workers union strike industry factory production supply demand shortage
weapons defence alliance treaty embassy diplomats spokesman statement interview according
reported sources analysts experts data survey study research results figures record highest
lowest since during before while because however although despite against between among under
""".split()
UKRAINIAN = """і в на що з не до та у за як про це від для але по його вона він вони ми ви так також
уряд міністр президент країна держава місто поліція війна армія економіка ринок енергетика ціни
переговори угода вибори суд закон безпека сили чиновники компанія відсотків тиждень місяць атака
кордон регіон підтримка план перший останній національний міжнародний іноземний лідери столиця
парламент криза мільйон мільярд зростання торгівля банк політика здоровʼя вода газ нафта зерно
порти експорт санкції допомога війська дрон ракета перемирʼя саміт голосування опозиція протест
розслідування рішення бюджет податок інфляція ставка інвестори клімат спека повінь біженці лікарня
школи студенти вчителі працівники страйк промисловість завод виробництво постачання попит дефіцит
зброя оборона альянс договір посольство дипломати заява інтервʼю джерела аналітики експерти дані
""".split()
LATIN_SYLLABLES = "ba be bi bo bu ca ce co da de di do fa fe fi ga ge go ha he hi ka ke ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zo ar er or an en in on al el il ol st tr pr cr".split()
CYRILLIC_SYLLABLES = "ба бе би бо бу ва ве ви во да де ди до за зе зи зо ка ке ки ко ку ла ле ли ло лу ма ме ми мо му на не ни но ну па пе пи по ра ре ри ро ру са се си со су та те ти то ту ха хо це чи ша ще ар ер ор ан ен ін он ал ел ол ст тр пр кр".split()
SITES = ["Reuters", "Associated Press", "BBC News", "The Guardian", "Le Monde", "Der Spiegel", "Politico",
         "Financial Times", "Українська правда", "Укрінформ", "Kyiv Independent", "Al Jazeera"]
TAIL_WORDS = 60_000
"""Made-up words per language: the long tail of rare words."""


class Language:
    def __init__(self, common: list[str], syllables: list[str], rng: random.Random) -> None:
        tail: set[str] = set()
        while len(tail) < TAIL_WORDS:
            tail.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
        self.words = list(dict.fromkeys(common)) + sorted(tail)
        rng.shuffle(self.words[len(common):])
        # Zipf's law: the word of rank r has weight 1/r (s = 1.05)
        weights = [1 / (rank ** 1.05) for rank in range(1, len(self.words) + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def sentence(self, rng: random.Random, length: int) -> str:
        words = rng.choices(self.words, cum_weights=self.cumulative, k=length)
        return " ".join(words).capitalize() + "."


def generate(n: int, *, seed: int = 1, chat: int = -100500, other_chat: int = -100600) -> Iterator[str]:
    """n JSON lines, one item each."""
    rng = random.Random(seed)
    english = Language(ENGLISH, LATIN_SYLLABLES, rng)
    ukrainian = Language(UKRAINIAN, CYRILLIC_SYLLABLES, rng)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    step = timedelta(days=3 * 365) / max(n, 1)
    for index in range(n):
        language, code = (ukrainian, "uk") if rng.random() < 0.10 else (english, "en")
        site = rng.choice(SITES)
        title = language.sentence(rng, rng.randint(6, 11)).rstrip(".")
        paragraphs = [" ".join(language.sentence(rng, rng.randint(8, 24)) for _ in range(rng.randint(3, 6)))
                      for _ in range(rng.randint(4, 7))]
        text = "\n\n".join(paragraphs)
        moment = start + step * index
        yield json.dumps({
            "chat_id": chat if rng.random() < 0.95 else other_chat,
            "url": f"https://{site.lower().replace(' ', '')}.example/{moment:%Y/%m/%d}/story-{index}",
            "title": title, "text": text, "site_name": site, "language": code,
            "authors": [f"{rng.choice(['Anna', 'Olena', 'John', 'Maria', 'Taras'])} "
                        f"{rng.choice(['Smith', 'Koval', 'Müller', 'Shevchenko', 'Dubois'])}"],
            "published_date": moment.date().isoformat(), "submitted_at": moment.isoformat(timespec="seconds"),
            "summary_extractive": " ".join(paragraphs[0].split(". ")[:3]),
        }, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8") as out:
        for line in generate(args.n, seed=args.seed):
            out.write(line + "\n")


if __name__ == "__main__":
    main()
