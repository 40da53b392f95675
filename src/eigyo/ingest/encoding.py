"""Bytes → text: which encoding a file is in, and when eigyo must not guess.

Japanese exports come as UTF-8 (with or without BOM), CP932 (Shift_JIS), EUC-JP or ISO-2022-JP.
Strict decodes come first; a statistical guess is accepted only when it is certain, because a
wrong guess loads every name garbled without an error (docs/security.md).
"""

from __future__ import annotations

from contextlib import suppress

from eigyo.errors import InputError

_SJIS_ALIASES = {"shift_jis", "shift-jis", "sjis", "s_jis", "shiftjis", "ms932", "windows-31j"}


def decode(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Bytes → text and the encoding used: strict UTF-8 (BOM or not), strict CP932, then a guess
    accepted only when it is certain.

    ``encoding`` overrides detection; Shift_JIS aliases are read as CP932, its superset. A wrong
    guess is silent damage (a CP932 file cut inside a character, guessed as cp1251, loads every
    name garbled), so a guess is refused — the error names the candidates and asks for
    ``--encoding`` — when the file is *nearly* UTF-8 or CP932 (it is that encoding, cut off or
    damaged: :func:`_near_miss`), when the guess reads the text as disordered, or when another
    candidate about as likely reads it differently.
    """
    if encoding:
        enc = "cp932" if encoding.strip().lower() in _SJIS_ALIASES else encoding
        try:
            return data.decode(enc), enc
        except LookupError:
            raise InputError(
                key="errors.read.unknown_encoding", file=name, enc=repr(encoding)
            ) from None
        except UnicodeDecodeError as e:
            raise InputError(
                key="errors.read.not_encoding",
                file=name,
                enc=enc,
                at=f"{e.start:,}",
                bytes=repr(data[e.start : e.start + 4]),
            ) from None
    if b"\x1b$B" in data or b"\x1b$@" in data:  # ISO-2022-JP (JIS) is 7-bit: it says so too
        with suppress(UnicodeDecodeError):  # not JIS after all: the strict decodes follow
            return data.decode("iso2022_jp"), "iso2022_jp"
    first_error: dict[str, int] = {}
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as e:
            first_error[enc] = e.start
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 says so with its BOM
        with suppress(UnicodeDecodeError):  # a BOM-like start only: the guess follows
            return data.decode("utf-16"), "utf-16"
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    found = [str(m.encoding) for m in matches]
    guesses = sorted(found[:5], key=lambda g: (g not in _COMMON, found.index(g)))
    near = _near_miss(data)
    if near is not None:
        enc, bad = near
        others = [g for g in guesses if g != enc]
        raise InputError(
            key="input.read.damaged",
            file=name,
            enc=enc,
            bad=f"{bad:,}",
            at=f"{first_error.get('utf-8-sig' if enc == 'utf-8' else enc, 0):,}",
            others=", ".join(others) or "-",
        )
    if not matches:
        raise InputError(key="errors.read.no_encoding", file=name)
    best = matches[0]
    text = str(best)
    rivals = [m for m in matches[1:4] if m.chaos <= best.chaos + CHAOS_MARGIN]
    if best.chaos > MAX_CHAOS or any(str(m) != text for m in rivals):
        raise InputError(
            key="input.read.unsure", file=name, candidates=", ".join(guesses), first=guesses[0]
        )
    return text, str(best.encoding)


#: Encodings named first among the candidates of an uncertain guess (the likely ones).
_COMMON = ("cp932", "utf_8", "euc_jp", "euc_jis_2004", "iso2022_jp", "cp1252", "latin_1")
#: A guessed encoding is accepted only when it reads the text with at most this "chaos"
#: (charset_normalizer's share of characters out of place: mojibake scores high).
MAX_CHAOS = 0.1
#: Candidates whose chaos is within this of the best one are as likely: when any of them reads
#: the bytes differently, the guess is not certain.
CHAOS_MARGIN = 0.05
#: A file is *nearly* UTF-8 or CP932 when that encoding cannot read at most this many places
#: (a cut, a damaged byte) …
NEAR_MISS_PLACES = 3
#: … or reads at least this many characters beyond ASCII for each place it cannot read.
NEAR_MISS_READ = 1000


def _near_miss(data: bytes) -> tuple[str, int] | None:
    """``(encoding, undecodable places)`` when ``data`` is UTF-8 or CP932 but for a few bytes.

    A file cut inside a two-byte character, or with one damaged byte, is still that encoding;
    any other reading of it is garbled. "A few": at most :data:`NEAR_MISS_PLACES`, or one per
    :data:`NEAR_MISS_READ` characters beyond ASCII it reads (a Latin-1 or EUC-JP file read as
    CP932 fails every few characters, so it is never near).
    """
    for enc in ("utf-8", "cp932"):
        text = data.decode(enc, errors="replace")
        bad = text.count("\ufffd") - (data.count(b"\xef\xbf\xbd") if enc == "utf-8" else 0)
        if bad <= 0:
            continue
        read = len(text) - len(text.encode("ascii", errors="ignore")) - bad
        if bad <= NEAR_MISS_PLACES or read >= NEAR_MISS_READ * bad:
            return enc, bad
    return None


def utf8_bytes(data: bytes, enc: str) -> bytes | None:
    """``data`` as the UTF-8 of its decoded text, when it already is that (else None)."""
    name = enc.lower().replace("_", "-")
    if name == "utf-8-sig":
        return data.removeprefix(b"\xef\xbb\xbf")
    return data if name in ("utf-8", "utf8") else None
