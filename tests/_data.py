"""Where the public data sets are: the one locator every test that reads them goes through.

The data sets (Maven, Olist, B2B, UCI bank marketing, CDNOW, BPI 2012) live outside the
repository: ``$EIGYO_SHARED_DATA`` when set, else ``../shared/data`` beside the checkout. A test
that reads one is marked ``@needs_data("cdnow-clv/CDNOW_sample.txt")`` (a module:
``pytestmark = needs_data(...)``); ``tests/conftest.py`` checks the paths before the test and its
fixtures start. A missing path skips the test on a developer's machine and fails it in CI
(``CI=true``, or ``EIGYO_REQUIRE_DATA=1`` as ``.ci/run`` sets), so a CI machine without the data
cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = "EIGYO_SHARED_DATA"
REQUIRE_ENV = "EIGYO_REQUIRE_DATA"
#: The marker ``needs_data`` puts on a test: its arguments are paths relative to ``DATA``.
MARKER = "shared_data"


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def shared_data() -> Path:
    """The folder of the public data sets: ``$EIGYO_SHARED_DATA``, else ``../shared/data``."""
    env = os.environ.get(ENV, "").strip()
    return Path(env).expanduser().resolve() if env else ROOT.parent / "shared" / "data"


DATA = shared_data()


def data_required() -> bool:
    """True in CI (``CI=true`` or ``EIGYO_REQUIRE_DATA=1``): missing data fails, not skips."""
    return _truthy(os.environ.get("CI")) or _truthy(os.environ.get(REQUIRE_ENV))


def needs_data(*relative: str) -> pytest.MarkDecorator:
    """Mark a test or module that reads these paths under ``DATA`` (none: the folder itself)."""
    return getattr(pytest.mark, MARKER)(*relative)


def require(*relative: str) -> None:
    """Skip (locally) or fail (in CI) unless every path exists under ``DATA``."""
    missing = [str(DATA / r) for r in relative or ("",) if not (DATA / r).exists()]
    if not missing:
        return
    reason = f"public data not present: {', '.join(missing)} (set {ENV} to the data folder)"
    if data_required():
        pytest.fail(f"{reason}; CI needs the public data sets", pytrace=False)
    pytest.skip(reason)
