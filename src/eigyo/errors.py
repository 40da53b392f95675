"""One error hierarchy: the CLI turns every ``EigyoError`` into a message and exit status 1.

An error raised with a ``key`` of the UI catalogue (:mod:`eigyo.i18n`) and its values can be
shown in the reader's language: :meth:`EigyoError.localized`. ``str(error)`` is the English text,
so logs, tests and callers that only read the message keep working.
"""

from __future__ import annotations

from eigyo.i18n import Lang, UnknownLanguage, t
from eigyo.i18n import check_lang as _check_lang


class EigyoError(Exception):
    """A domain error: bad data, an unknown period, a missing workspace. Never a bug."""

    def __init__(self, message: str = "", /, *, key: str | None = None, **values: object) -> None:
        if key is not None and not message:
            message = t(key, "en", **values)
        super().__init__(message)
        self.key = key
        self.values = values

    def localized(self, lang: str) -> str:
        """The message in ``lang`` when the error carries a catalogue key, else as raised."""
        if self.key is None:
            return str(self)
        return t(self.key, lang, **self.values)


class InputError(EigyoError, ValueError):
    """Input that cannot be read as what it claims to be (a file, a value, an argument)."""


class WorkspaceError(EigyoError):
    """The workspace folder is missing, incomplete or its settings are invalid."""


class PeriodError(InputError):
    """A period string that is not a month, quarter, fiscal year or range."""


class DeclarationError(EigyoError, ValueError):
    """eigyo's own declarations (``checks.toml`` and what it names) contradict each other.

    Raised when they load, listing every problem at once (each a catalogue key and its values,
    shown in the reader's language), so a wrong name never waits for real data to fail.
    """

    def __init__(self, source: str, problems: list[tuple[str, dict[str, object]]]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self._text("en"), key="declarations.invalid", source=source)

    def _text(self, lang: str) -> str:
        head = t("declarations.invalid", lang, source=self.source, count=len(self.problems))
        return "\n  ".join([head, *(t(k, lang, **v) for k, v in self.problems)])

    def localized(self, lang: str) -> str:
        return self._text(lang)


def check_lang(lang: str) -> Lang:
    """``lang`` when it is ja or en, else an :class:`InputError` (which the CLI and the report
    turn into one sentence). :mod:`eigyo.i18n` cannot raise it itself: it is the lowest layer."""
    try:
        return _check_lang(lang)
    except UnknownLanguage as e:
        raise InputError(str(e)) from None
