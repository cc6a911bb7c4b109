"""MinHash signatures and LSH band buckets of an article's words, for grouping stories.

Why MinHash over word sets: the Jaccard similarity of two reports' word sets estimates how much of
the event they share, a signature is 128 small numbers stored with the item, and LSH bands turn
"which stored items are similar to this one" into a few index lookups (the banding cost does not
grow with the archive). Our own few lines over numpy rather than `datasketch`: it would add scipy too, and its LSH
index lives in memory while ours must live in SQLite (buckets looked up by chat and time).

The words: lower-case, stop words dropped, each cut to its first 6 letters (a crude stemmer that
treats "earthquake"/"earthquakes" and "землетрус"/"землетрусу" alike), from the title (also
counted as title words, which weighs the title) and the first 120 words of the text.
"""

from __future__ import annotations

import hashlib
import operator
import re
import struct
from collections.abc import Iterable

import numpy as np

PERMUTATIONS = 128
BANDS = 32
ROWS = 2
"""The buckets are made of the first BANDS * ROWS values; the estimate uses all of them."""
TEXT_WORDS = 120
STEM = 6
NAME_WEIGHT = ("n", "m", "o")
_MASK = 0xFFFFFFFF
_WORD = re.compile(r"[^\W_]+(?:['ʼ’][^\W_]+)*", re.UNICODE)
_STOP = frozenset("""
a an the and or but of to in on at by for from with as is are was were be been being it its this that these
those he she they we you i his her their our your not no yes will would can could has have had do does did
said says say after before over under into out up down about than then there here also more most very just
who whom which what when where why how all any some such new one two three
і й та а але або що як це ці цей ця той та ті він вона воно вони ми ви я його її їх наш ваш не ні так
у в на з із зі до від для за про при по над під між через після перед також ще вже був була було були
бути є який яка яке які коли де чому хто
""".split())
_RANDOM = np.random.default_rng(20261205)  # fixed: stored signatures must stay comparable
_A = _RANDOM.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)  # odd
_B = _RANDOM.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)


def words(text: str) -> list[str]:
    """The content words of a text, stemmed."""
    found = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("’", "'").replace("ʼ", "'")
        if word in _STOP or (len(word) < 2 and not word.isdigit()):
            continue
        found.append(word[:STEM])
    return found


def names(text: str) -> list[str]:
    """Capitalised words and numbers: the places, people and figures that tell one event of a
    kind from another (a word opening a sentence is counted too; that costs little)."""
    return [match.group(0).lower()[:STEM] for match in _WORD.finditer(text)
            if match.group(0)[0].isupper() or any(ch.isdigit() for ch in match.group(0))]


def features(title: str, text: str = "") -> set[str]:
    """The set a story signature is made of: title words (twice: as words and as title words), the
    opening words of the text, and names and numbers again (as names), which weighs what tells
    one event from another of the same kind."""
    title_words = words(title)
    opening = " ".join(text.split()[:TEXT_WORDS])
    return {*title_words, *(f"t:{word}" for word in title_words), *words(opening),
            *(f"{mark}:{name}" for name in names(f"{title} {opening}") if name not in _STOP for mark in NAME_WEIGHT)}


def signature(tokens: Iterable[str]) -> tuple[int, ...]:
    """The MinHash signature of a set of tokens; an empty set has none (all maximal).

    Each token is hashed once (64-bit BLAKE2b); the 128 hash functions are multiply-shift hashes
    of that value (`(a * x + b) mod 2**64`, its high 32 bits), computed for all tokens at once
    with numpy, and the signature is each function's minimum."""
    hashes = np.fromiter((int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
                          for token in set(tokens)), dtype=np.uint64)
    if hashes.size == 0:
        return (_MASK,) * PERMUTATIONS
    values = (_A[:, None] * hashes[None, :] + _B[:, None]) >> np.uint64(32)  # wraps mod 2**64, as meant
    return tuple(int(value) for value in values.min(axis=1))


def similarity(first: tuple[int, ...], second: tuple[int, ...]) -> float:
    """The Jaccard similarity the two signatures estimate."""
    if all(value == _MASK for value in first) or all(value == _MASK for value in second):
        return 0.0
    return sum(map(operator.eq, first, second)) / PERMUTATIONS


def buckets(sig: tuple[int, ...], *, kind: str, language: str) -> list[int]:
    """The LSH bucket of each band of a signature, as signed 64-bit numbers (SQLite integers);
    kind and language are part of the bucket, so only like is compared with like."""
    if all(value == _MASK for value in sig):
        return []
    found = []
    for band in range(BANDS):
        values = sig[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(f"{kind}|{language}|{band}|{values}".encode(), digest_size=8).digest()
        found.append(int.from_bytes(digest, "little", signed=True))
    return found


def pack(sig: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{PERMUTATIONS}I", *sig)


def unpack(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{PERMUTATIONS}I", blob)
