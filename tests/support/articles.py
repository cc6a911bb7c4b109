"""Realistic article pages written for the tests (our own text, not copied from anywhere)."""

from __future__ import annotations

import html
import json

ENGLISH_PARAGRAPHS = [
    "Grain exports through the Black Sea corridor rose to a record in October, according to port "
    "authorities in Odesa, as shipping insurers cut premiums for the third month in a row.",
    "The corridor, which relies on naval escorts and a network of coastal air defences, carried "
    "5.2 million tonnes of wheat, maize and sunflower oil last month, officials said on Monday.",
    "Analysts at the Kyiv School of Economics said the figures showed that Ukraine's farmers had "
    "adapted to the war faster than expected, although many still face higher costs for fuel.",
    "Dr. Olena Marchenko, an economist who studies agricultural trade, said the next test would "
    "come in winter, when storms and attacks on port infrastructure usually slow traffic.",
    "Shipping companies from Greece and Turkey have returned to the route, and several insurers "
    "in London now offer cover for vessels that call at Ukrainian ports.",
    "The government expects exports to stay above four million tonnes a month until spring, "
    "provided that the air defences around Odesa hold, the ministry said in a statement.",
    "Farmers in the south of the country said they had planted more winter wheat this year, "
    "betting on the corridor remaining open through the harvest season in summer.",
]

UKRAINIAN_PARAGRAPHS = [
    "Київська міська рада ухвалила програму підготовки до опалювального сезону, яка передбачає "
    "встановлення резервних котелень у кожному районі столиці до кінця грудня.",
    "За словами заступника міського голови, програма коштуватиме 2,4 млрд грн, а фінансування "
    "частково надійде від міжнародних партнерів та донорів.",
    "Енергетики попереджають, що навантаження на мережі взимку зросте, тому мешканців закликають "
    "економно використовувати електроенергію у години пікового споживання.",
    "Експерти зазначають, що досвід минулої зими допоміг комунальникам підготуватися краще: "
    "запаси палива та обладнання накопичено заздалегідь.",
    "У мерії також пообіцяли відкрити додаткові пункти незламності у школах та бібліотеках, "
    "де можна буде зігрітися, зарядити телефон і скористатися інтернетом.",
]

RUSSIAN_PARAGRAPHS = [
    "Центральный банк сохранил ключевую ставку на прежнем уровне, сообщила пресс-служба регулятора "
    "в пятницу после заседания совета директоров.",
    "По словам аналитиков, решение было ожидаемым: инфляция в последние месяцы замедлилась, однако "
    "остаётся выше целевого уровня, а кредитование продолжает расти.",
    "Экономисты считают, что снижение ставки возможно не раньше весны следующего года, если цены на "
    "продовольствие и топливо стабилизируются.",
    "Представители бизнеса выразили разочарование, заявив, что высокая стоимость займов мешает "
    "инвестициям в производство и новые рабочие места.",
]


def article_page(
    *,
    title: str,
    paragraphs: list[str],
    site: str = "Example Times",
    authors: tuple[str, ...] = ("Maria Kovalenko",),
    published: str = "2026-11-20T08:30:00+00:00",
    language: str = "en",
    charset_meta: bool = True,
    title_suffix: bool = True,
) -> str:
    """A news article page as newsroom sites publish them: JSON-LD, Open Graph, nav and footer."""
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": published,
        "author": [{"@type": "Person", "name": name} for name in authors],
        "publisher": {"@type": "Organization", "name": site},
        "inLanguage": language,
    }
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    byline = ", ".join(html.escape(a) for a in authors)
    head_title = f"{title} | {site}" if title_suffix else title
    charset = '<meta charset="utf-8">' if charset_meta else ""
    return f"""<!DOCTYPE html>
<html lang="{language}"><head>{charset}
<title>{html.escape(head_title)}</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="{html.escape(site)}">
<meta property="article:published_time" content="{published}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main><article>
<h1>{html.escape(title)}</h1>
<p class="byline">By {byline}</p>
<time datetime="{published}">{published[:10]}</time>
{body}
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Celebrity chef opens restaurant</a></li></ul></aside>
</main>
<footer><p>© {html.escape(site)}. All rights reserved.</p></footer>
</body></html>"""


def english_article(title: str = "Black Sea grain exports hit a record", **kwargs: object) -> str:
    return article_page(title=title, paragraphs=ENGLISH_PARAGRAPHS, **kwargs)  # type: ignore[arg-type]


def ukrainian_article(title: str = "Київ готується до зими: нові котельні в кожному районі", **kwargs: object) -> str:
    defaults: dict[str, object] = {"site": "Київські новини", "authors": ("Олена Коваленко",), "language": "uk"}
    return article_page(title=title, paragraphs=UKRAINIAN_PARAGRAPHS, **(defaults | kwargs))  # type: ignore[arg-type]


def russian_article_cp1251() -> bytes:
    """A Russian page in windows-1251 that declares no charset anywhere."""
    page = article_page(title="Центробанк сохранил ключевую ставку", paragraphs=RUSSIAN_PARAGRAPHS,
                        site="Деловые вести", authors=("Иван Петров",), language="ru", charset_meta=False)
    return page.encode("cp1251")


def no_article_page() -> str:
    return """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign in</title></head>
<body><form><label>Email <input name="email"></label><label>Password <input type="password"></label>
<button>Sign in</button></form></body></html>"""
