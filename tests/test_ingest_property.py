"""Property: whatever bytes arrive, import never loses a row without a reason and never crashes.

For generated CSVs (odd values, wrong field counts, CP932 or UTF-8, any line ending, extra
columns) every row read is either loaded or rejected, the counts agree with the workspace, and the
only exception allowed is the domain error ``InputError`` (exit status 1, a message).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eigyo.errors import InputError
from eigyo.ingest import import_path

sys.path.insert(0, str(Path(__file__).parent))
from _ingest_util import REPS, new_ws, rows, write

COLUMNS = ["opportunity_id", "owner_rep_id", "amount", "created_at", "status", "memo"]
TOKENS = st.sampled_from(
    [
        "o1",
        "o2",
        "r1",
        "",
        " ",
        "won",
        "lost",
        "WON",
        "maybe",
        "100",
        "-5",
        "￥1,000",
        "１２",
        "2025-04-01",
        "R7.4.1",
        "2025年4月1日",
        "2025-13-01",
        "45748",
        "髙①～",
        "x;y",
        "\t",
        "$-",
    ]
)
ROW = st.lists(TOKENS, min_size=0, max_size=len(COLUMNS) + 2)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    """A CSV and the number of data rows in it (values hold no quote, comma or line break)."""
    body = draw(st.lists(ROW, min_size=0, max_size=12))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(COLUMNS)] + [",".join(r) for r in body]
    text = eol.join(lines) + eol
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
    return text.encode(enc), len(body)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_loaded_plus_rejected_equals_rows_read(case: tuple[bytes, int]) -> None:
    data, n = case
    with tempfile.TemporaryDirectory() as tmp:
        ws = new_ws(Path(tmp))
        src = write(Path(tmp) / "in", {"reps.csv": REPS, "opportunities.csv": data})
        try:
            report = import_path(ws, src)
        except InputError:
            return  # a message for the person, and nothing changed
        opp = report.files[1]
        assert opp.rows == n
        assert opp.loaded + opp.rejected == opp.rows
        assert sum(opp.reasons.values()) == opp.rejected
        in_db = rows(ws, "SELECT count(*) FROM opportunities")[0][0]
        rejected = rows(ws, "SELECT count(*) FROM _rejects WHERE \"table\" = 'opportunities'")
        assert (in_db, rejected[0][0]) == (opp.loaded, opp.rejected)
        ws.close()
