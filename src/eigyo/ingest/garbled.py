"""Text that looks garbled (mojibake): read with the wrong encoding somewhere along the way.

CP932 bytes read as Latin-1, cp1252 or cp1251 become runs of Latin-1 supplement, typographic and
Cyrillic letters (``ƒeƒXƒg``, ``‚ ‚¢``, ``Рђ``); UTF-8 read as cp1252 becomes ``ã`` / ``Â`` followed
by such letters; UTF-8 read as CP932 becomes ``縺`` / ``繧`` / ``繝`` (the CP932 readings of the
lead bytes of every hiragana and katakana); an undecodable byte becomes ``�``. A text column in
which most characters beyond ASCII are of that kind is garbled.
:func:`eigyo.ingest.garbled_guard.refuse_garbled` refuses an import that would replace existing
rows whose text is *not* garbled with text that is — the damage of a wrong ``--encoding`` — and
only notes it when no row is replaced. A workspace whose
names really are Latin (``Müller``) is not affected: its existing text scores as high.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Characters mis-decoding produces: U+FFFD, C1 controls and the Latin-1 supplement, Latin
#: Extended-A, Cyrillic, the typographic letters of cp1252 (‚ ƒ „ … † ‡ ˆ ‰ ‹ ‘ ’ “ ” • – — ˜ ™ ›),
#: and the CP932 readings of UTF-8 kana lead bytes.
SUSPECT = re.compile(
    "[\ufffd\u0080-\u017f\u0192\u02c6\u02dc\u0400-\u04ff\u2013\u2014\u2018-\u201e"
    "\u2020-\u2022\u2026\u2030\u2039\u203a\u2122縺繧繝]"
)
#: Garbled: at least this many suspect characters …
MIN_SUSPECT = 3
#: … making up at least this share of the characters beyond ASCII.
MIN_SHARE = 0.3


def score(values: Iterable[str | None]) -> tuple[int, int]:
    """``(suspect characters, characters beyond ASCII)`` over ``values``."""
    suspect = beyond = 0
    for v in values:
        if not v or v.isascii():
            continue
        beyond += len(v) - len(v.encode("ascii", errors="ignore"))
        suspect += len(SUSPECT.findall(v))
    return suspect, beyond


def looks_garbled(values: Iterable[str | None]) -> bool:
    """Whether most non-ASCII characters of ``values`` are what mis-decoding produces."""
    suspect, beyond = score(values)
    return suspect >= MIN_SUSPECT and suspect >= MIN_SHARE * beyond


def examples(values: Iterable[str | None], n: int = 2, width: int = 24) -> str:
    """Up to ``n`` garbled values, each cut to ``width`` characters, for a message."""
    out = []
    for v in values:
        if v and SUSPECT.search(v):
            out.append(repr(v[:width]))
            if len(out) == n:
                break
    return ", ".join(out)
