"""The ten-second headline on the PDF's first page and the deck's first slide (issue 18).

The same numbers as ``Document.headline`` (one definition, :mod:`eigyo.report._headline`),
read back from the files themselves: the PDF's first page through pypdf, the first slide's XML
(its ``a:t`` runs). Independently, bookings, plan and attainment equal test_app_headline's SQL
over the hand-made company of test_app_scope, formatted as the headline formats (億/万 in
Japanese, M in English); the top action names its owner, the manager of team A.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from eigyo.base.formatting import money, percent
from eigyo.base.periods import parse_period
from eigyo.diagnose.model import Finding
from eigyo.report import ReportInput, document, render_pdf, render_pptx, report_model
from eigyo.report._document import ReportModel
from eigyo.workspace import Workspace
from tests.test_app_headline import expected
from tests.test_app_scope import FY, company

ACTIONS = [{"ja": "A チームの商談を見直す", "en": "Review team A's deals"}]
FINDING = Finding("measure", "win_rate", "warn", "win_rate", {"team": "A"},
                  {"value": 0.3, "q_value": 0.01}, {"ja": "c", "en": "c"}, ACTIONS,
                  impact_jpy=170_313_202.0)  # fmt: skip


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return company(tmp_path_factory.mktemp("hlfiles"))


def _model(ws: Workspace, lang: str, fmt: str) -> ReportModel:
    p = parse_period(FY, ws.settings.fiscal_year_start_month)
    inp = ReportInput("Co", p, datetime(2026, 1, 1), findings=[FINDING])
    return report_model(ws, inp, lang, formats=(fmt,), steps=())


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _expected_texts(lang: str) -> list[str]:
    """Bookings, plan, attainment by SQL, formatted as a headline formats them."""
    want = expected("admin")
    return [
        money(want["bookings"], "JPY", compact=True, lang=lang),
        money(want["plan"], "JPY", compact=True, lang=lang),
        percent(want["attainment"]),
        money(170_313_202.0, "JPY", compact=True, lang=lang),  # the ¥ at stake: one finding
    ]


def _view_texts(model: ReportModel) -> list[str]:
    h = document(model).headline
    assert h is not None and h.plan and h.attainment and h.landing and h.stake and h.pace
    texts = [h.bookings, h.plan, h.attainment, h.landing, h.stake, h.pace, h.stake_note]
    for a in h.actions:
        texts += [a.text, a.owner, a.finding_title]
    assert [a.owner for a in h.actions] == ["高橋"]  # team A's manager
    return texts


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pdf_first_page_has_the_headline(ws: Workspace, lang: str) -> None:
    model = _model(ws, lang, "pdf")
    first = _flat(PdfReader(io.BytesIO(render_pdf(model))).pages[0].extract_text())
    heading = {"ja": "ひと目でわかる現状", "en": "At a glance"}[lang]
    assert _flat(heading) in first
    for text in [*_view_texts(model), *_expected_texts(lang)]:
        assert _flat(text) in first, text
    if lang == "ja":  # test_app_headline's hand-computed figures
        assert "¥600万" in first and "100.0%" in first and "¥1.7億" in first
    # the headline comes before the summary of findings
    summary = _flat({"ja": "エグゼクティブサマリー", "en": "Executive summary"}[lang])
    assert first.index(_flat(heading)) < first.index(summary)


def _slide_text(data: bytes, n: int) -> str:
    """The text runs (``a:t``) of slide ``n`` as the file stores them."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read(f"ppt/slides/slide{n}.xml").decode("utf-8")
    runs = re.findall(r"<a:t>([^<]*)</a:t>", xml)
    return "\n".join(
        r.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") for r in runs
    )


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pptx_first_slide_is_the_headline(ws: Workspace, lang: str) -> None:
    model = _model(ws, lang, "pptx")
    data = render_pptx(model)
    first = _slide_text(data, 1)
    assert {"ja": "ひと目でわかる現状", "en": "At a glance"}[lang] in first
    for text in [*_view_texts(model), *_expected_texts(lang)]:
        assert text in first, text
    kpi_title = {"ja": "主要指標サマリー", "en": "KPI summary"}[lang]
    assert kpi_title not in first and kpi_title in _slide_text(data, 2)


def test_without_plan_the_headline_says_so(tmp_path: Path) -> None:
    """A company without quotas: no plan, no attainment — said in words, never ¥0 or 0%."""
    from tests.test_app_scope import ROWS

    rows = {k: v for k, v in ROWS.items() if k != "quotas"}
    w = company(tmp_path, rows=rows)
    model = _model(w, "en", "pptx")
    first = _slide_text(render_pptx(model), 1)
    assert "No plan (quotas) imported" in first and "Attainment" not in first
    pdf = _flat(PdfReader(io.BytesIO(render_pdf(_model(w, "en", "pdf")))).pages[0].extract_text())
    assert _flat("No plan (quotas) imported") in pdf
