"""Write a report file so that it appears whole or not at all.

A half-written PDF or workbook that a user opens during a meeting (or that a scheduler mails)
is worse than none: each writer writes to a temporary file beside the target and renames it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(out: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` with a temporary path in ``out``'s folder, then move it to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a report is meant to be shared
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
