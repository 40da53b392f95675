"""UI strings in Japanese (default) and English, declared as data.

Each concern keeps its own catalogue file in this folder (``cli.toml``, ``report.toml``, …) so
that texts are edited without touching code; every key must carry both ``ja`` and ``en``, which
:func:`catalogue` checks when the files load. A key defined in two files is an error.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")
DEFAULT_LANG: Lang = "ja"


def _flatten(prefix: str, node: dict[str, Any], out: dict[str, dict[str, str]], src: str) -> None:
    if set(node) >= {"ja", "en"} and all(isinstance(node[k], str) for k in ("ja", "en")):
        if prefix in out:
            raise ValueError(f"i18n key {prefix!r} is defined twice (again in {src})")
        out[prefix] = {"ja": node["ja"], "en": node["en"]}
        return
    for k, v in node.items():
        if not isinstance(v, dict):
            raise ValueError(f"i18n {src}: {prefix}.{k} must have both 'ja' and 'en' texts")
        _flatten(f"{prefix}.{k}" if prefix else k, v, out, src)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """All texts, keyed ``file_stem.section.key`` → {ja, en}; validated once per process."""
    import tomllib  # here, not at the top: ``eigyo --help`` reads no catalogue
    from importlib import resources

    out: dict[str, dict[str, str]] = {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            _flatten(entry.name.removesuffix(".toml"), data, out, entry.name)
    return out


def t(key: str, lang: str = DEFAULT_LANG, /, **values: object) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    try:
        entry = catalogue()[key]
    except KeyError:
        raise KeyError(f"No UI text {key!r}") from None
    text = entry["en" if lang == "en" else "ja"]
    return text.format(**values) if values else text


class UnknownLanguage(ValueError):
    """A language other than ja or en. A ``ValueError`` (not an ``eigyo.errors`` class) because
    this catalogue is the lowest layer: :mod:`eigyo.errors` reads it, so it imports nothing."""


def check_lang(lang: str) -> Lang:
    if lang not in LANGS:
        raise UnknownLanguage(f"Unknown language {lang!r}. Use ja or en.")
    return lang  # type: ignore[return-value]
