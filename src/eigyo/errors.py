"""One error hierarchy: the CLI turns every ``EigyoError`` into a message and exit status 1."""

from __future__ import annotations


class EigyoError(Exception):
    """A domain error: bad data, an unknown period, a missing workspace. Never a bug."""


class InputError(EigyoError, ValueError):
    """Input that cannot be read as what it claims to be (a file, a value, an argument)."""


class WorkspaceError(EigyoError):
    """The workspace folder is missing, incomplete or its settings are invalid."""


class PeriodError(InputError):
    """A period string that is not a month, quarter, fiscal year or range."""
