"""PDF, Excel and PowerPoint reports: valid files that open back, in the reader's language,
with the exact KPI values, and CRM text that can neither run as a formula nor break markup.

A tiny hand-made workspace whose CRM values are hostile (a formula, a DDE command, markup,
a dollar sign that matplotlib would read as math); findings and KPI tiles are given by hand.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation
from pptx.oxml.ns import qn
from pypdf import PdfReader

from eigyo.base.periods import Period
from eigyo.cli import main
from eigyo.diagnose.model import Finding
from eigyo.errors import EigyoError
from eigyo.report import (
    FORMATS,
    KpiTile,
    ReportInput,
    report_model,
    write_format,
    write_pdf,
    write_pptx,
    write_xlsx,
)
from eigyo.report._figures import Chart
from eigyo.report._static import chart_png
from eigyo.workspace import Workspace, init
from tests._rows import insert

FY2024 = Period(date(2024, 4, 1), date(2025, 3, 31), "FY2024")
FORMULA = '=HYPERLINK("http://evil.example/","クリック")'
DDE = "+cmd|' /C calc'!A0"
MARKUP = "<b>太字</b> & <script>x</script>"

REPS = [
    {"rep_id": "r1", "name": "佐藤", "team": "東日本", "role": "generalist",
     "hire_date": "2023-01-10"},
    {"rep_id": "r2", "name": FORMULA, "team": "西日本", "role": "closer",
     "hire_date": "2023-05-01"},
]  # fmt: skip
ACCOUNTS = [
    {"account_id": "a1", "name": DDE, "industry": "製造"},
    {"account_id": "a2", "name": MARKUP, "industry": "$IT$"},
]
OPPS = [
    {"opportunity_id": "o1", "account_id": "a1", "owner_rep_id": "r1", "amount": 1000000,
     "created_at": "2024-04-05", "closed_at": "2024-05-10", "status": "won"},
    {"opportunity_id": "o2", "account_id": "a2", "owner_rep_id": "r2", "amount": 400000,
     "created_at": "2024-04-10", "closed_at": "2024-06-01", "status": "lost"},
    {"opportunity_id": "o3", "account_id": "a2", "owner_rep_id": "r2", "amount": 2500000,
     "created_at": "2024-06-01", "expected_close_date": "2025-06-30", "status": "open"},
    {"opportunity_id": "o4", "account_id": "a1", "owner_rep_id": "r1", "amount": 700000,
     "created_at": "2025-03-01", "expected_close_date": "2025-05-31", "status": "open"},
]  # fmt: skip
STAGES = [
    {"opportunity_id": "o1", "stage": "見込み", "entered_at": "2024-04-05"},
    {"opportunity_id": "o1", "stage": "受注", "entered_at": "2024-05-10"},
    {"opportunity_id": "o3", "stage": "見込み", "entered_at": "2024-06-01"},
    {"opportunity_id": "o3", "stage": MARKUP, "entered_at": "2024-07-01"},
    {"opportunity_id": "o4", "stage": "見込み", "entered_at": "2025-03-01"},
]
ACTIVITIES = [
    {"activity_id": "x1", "rep_id": "r1", "type": "call", "occurred_at": "2025-03-20 10:00",
     "opportunity_id": "o4"},
]  # fmt: skip

KPIS = [
    KpiTile("bookings", {"ja": "受注金額", "en": "Bookings"}, "yen", 3_500_000, 5_000_000,
            3_000_000, 2_000_000, "higher"),
    KpiTile("win_rate", {"ja": "受注率", "en": "Win rate"}, "ratio", 0.5, 0.25, 0.55),
    KpiTile("sales_cycle_days", {"ja": "営業サイクル", "en": "Sales cycle"}, "days", 35.0, 30.0,
            better="lower"),
]  # fmt: skip
FINDINGS = [
    Finding(
        step="measure",
        check="win_rate",
        severity="error",
        metric="win_rate",
        scope={"team": "西日本"},
        evidence={"value": 0.2, "baseline": 0.5, "n": 40},
        cause={"ja": "西日本の提案が弱い", "en": "The West team's proposals are weak"},
        actions=[{"ja": "提案レビューを毎週行う", "en": "Review proposals every week"}],
        impact_jpy=12_300_000,
        title={"ja": "西日本の受注率が低い", "en": "West win rate is low"},
        impact_formula={"ja": "差 × 件数 × 単価", "en": "gap × deals × deal size"},
        chart="win-rate-by-team",
    ),
    Finding(
        step="data",
        check="stale_deals",
        severity="warn",
        metric=None,
        scope={"rep_id": FORMULA},
        evidence={"share": 0.5},
        cause={"ja": f"原因 {MARKUP}", "en": f"cause {MARKUP}"},
        actions=[{"ja": DDE, "en": DDE}],
        impact_jpy=1_000_000,
        title={"ja": "放置商談が多い", "en": "Many stale deals"},
    ),
    Finding("process", "stall", "info", None, {}, {}, {"ja": "情報", "en": "info"}, [],
            title={"ja": "参考情報", "en": "For information"}),
]  # fmt: skip


def _input(findings: list[Finding] | None = None, kpis: list[KpiTile] | None = None) -> ReportInput:
    return ReportInput(
        company="デモ株式会社",
        period=FY2024,
        generated_at=datetime(2025, 4, 2, 9, 0),
        kpis=KPIS if kpis is None else kpis,
        findings=FINDINGS if findings is None else findings,
        data_summary={"reps": 2, "opportunities": 4},
    )


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    w = init(tmp_path_factory.mktemp("formats") / "w")
    for table, rows in (("reps", REPS), ("accounts", ACCOUNTS), ("opportunities", OPPS),
                        ("stage_history", STAGES), ("activities", ACTIVITIES)):  # fmt: skip
        insert(w, table, rows)
    return w


@pytest.fixture(scope="module")
def files(ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every format in both languages, written once for the module: ``pdf-ja`` → path."""
    out = tmp_path_factory.mktemp("out")
    writers = {"pdf": write_pdf, "xlsx": write_xlsx, "pptx": write_pptx}
    return {
        f"{fmt}-{lang}": writer(
            report_model(ws, _input(), lang, formats=(fmt,)), out / f"r-{lang}.{fmt}"
        )
        for fmt, writer in writers.items()
        for lang in ("ja", "en")
    }


# --- Excel -----------------------------------------------------------------------------------


def _sheets(path: Path) -> dict[str, list[list[object]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in wb}


def test_xlsx_kpis_are_typed_numbers_with_formats(files: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(files["xlsx-ja"])
    assert wb.sheetnames[:6] == ["主要指標", "診断結果", "チーム別指標", "進行中の商談", "放置商談",
                                 "レポート情報"]  # fmt: skip
    # then one evidence sheet per alarm, most important first (eigyo.report.evidence)
    assert wb.sheetnames[6:] == ["01 win_rate", "02 stale_deals"]
    kpi = wb["主要指標"]
    assert [c.value for c in kpi[1]][:4] == ["指標ID", "指標", "実績", "目標"]
    assert kpi["C2"].value == 3_500_000 and kpi["C2"].number_format == "¥#,##0"
    assert kpi["C3"].value == 0.5 and kpi["C3"].number_format == "0.0%"
    assert kpi["D3"].value == 0.25 and kpi["E3"].value == "目標達成"
    assert kpi["E4"].value == "目標未達"  # 35 days against 30, lower is better
    for sheet in wb.worksheets[:6]:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_xlsx_findings_follow_the_language(files: dict[str, Path], lang: str) -> None:
    sheets = _sheets(files[f"xlsx-{lang}"])
    rows = sheets["診断結果" if lang == "ja" else "Findings"]
    titles = [r[4] for r in rows[1:]]
    assert titles == [f.title[lang] for f in FINDINGS]  # already in rank order
    first = rows[1]
    assert first[7] == 12_300_000 and first[8] == FINDINGS[0].impact_formula[lang]
    assert first[3] == ("重大" if lang == "ja" else "Critical")


def test_xlsx_crm_text_never_becomes_a_formula(files: dict[str, Path]) -> None:
    with zipfile.ZipFile(files["xlsx-ja"]) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = "".join(z.read(n).decode("utf-8") for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    wb = openpyxl.load_workbook(files["xlsx-ja"])
    hostile = [c for ws in wb for row in ws.iter_rows() for c in row
               if isinstance(c.value, str) and c.value.startswith(("=", "+"))]  # fmt: skip
    assert {c.value for c in hostile} >= {FORMULA, DDE}
    assert all(c.data_type == "s" for c in hostile)


def test_xlsx_deal_lists(files: dict[str, Path]) -> None:
    sheets = _sheets(files["xlsx-en"])
    open_rows = sheets["Open deals"]
    assert open_rows[0][:3] == ["Opportunity ID", "Account", "Owner"]
    by_id = {r[0]: r for r in open_rows[1:]}
    assert set(by_id) == {"o3", "o4"}  # open at the end of FY2024
    o3 = by_id["o3"]
    assert o3[1:6] == [MARKUP, FORMULA, "西日本", MARKUP, 2_500_000]
    assert o3[9] == "yes" and by_id["o4"][9] == "no"  # o3 idle since June, o4 called in March
    assert [r[0] for r in sheets["Stale deals"][1:]] == ["o3"]


# --- PDF -------------------------------------------------------------------------------------


def _pdf_text(path: Path) -> tuple[int, str, str]:
    reader = PdfReader(path)
    pages = [p.extract_text() for p in reader.pages]
    return len(pages), pages[0], "\n".join(pages)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pdf_page_one_is_the_summary(files: dict[str, Path], lang: str) -> None:
    data = files[f"pdf-{lang}"].read_bytes()
    assert data.startswith(b"%PDF-") and b"IPAexGothic" in data  # the Japanese font is embedded
    n, first, text = _pdf_text(files[f"pdf-{lang}"])
    assert n >= 1 + 8  # summary, one page per runbook step (and the data used)
    for f in FINDINGS[:2]:  # the serious ones, with their ¥ impact
        assert f.title[lang] in first
    assert "¥12,300,000" in first and FINDINGS[2].title[lang] not in first
    # KPI tiles are headlines: amounts from a million in 万 / M (the Excel sheet keeps them exact)
    amounts = ("¥350万", "¥500万") if lang == "ja" else ("¥3.5M", "¥5M")
    for value in (*amounts, "50.0%", "25.0%", "+16.7%", "-5.0pt"):
        assert value in first
    assert FINDINGS[0].cause[lang] in text


def test_pdf_prints_markup_as_text(files: dict[str, Path]) -> None:
    _, _, text = _pdf_text(files["pdf-ja"])
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", MARKUP) in flat  # printed as written, not interpreted


# --- PowerPoint ------------------------------------------------------------------------------


def _slide_texts(slide: object) -> str:
    parts = []
    for shape in slide.shapes:  # type: ignore[attr-defined]
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_pptx_has_a_kpi_slide_and_one_slide_per_top_finding(
    files: dict[str, Path], lang: str
) -> None:
    prs = Presentation(str(files[f"pptx-{lang}"]))
    slides = list(prs.slides)
    assert len(slides) == 2 + 2  # the headline, the KPI summary, the warn and error findings
    kpi = _slide_texts(slides[1])
    amounts = ("¥350万", "¥500万") if lang == "ja" else ("¥3.5M", "¥5M")  # headline amounts
    for value in (*amounts, "50.0%", KPIS[0].label[lang]):
        assert value in kpi
    first = _slide_texts(slides[2])
    assert FINDINGS[0].title[lang] in first and "¥12,300,000" in first
    assert FINDINGS[0].cause[lang] in first and FINDINGS[0].actions[0][lang] in first
    pictures = [s for s in slides[2].shapes if s.shape_type == 13]
    assert len(pictures) == 1  # its chart (win rate by team) as an image
    second = _slide_texts(slides[3])
    assert FORMULA in second and MARKUP in second and DDE in second


def test_pptx_runs_carry_a_japanese_font(files: dict[str, Path]) -> None:
    prs = Presentation(str(files["pptx-ja"]))
    runs = [r for s in prs.slides for sh in s.shapes if sh.has_text_frame
            for p in sh.text_frame.paragraphs for r in p.runs]  # fmt: skip
    assert runs
    for r in runs:
        ea = r._r.find(qn("a:rPr")).find(qn("a:ea"))
        assert ea is not None and ea.get("typeface")


# --- every format ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_workspace_writes_every_format(tmp_path: Path, fmt: str) -> None:
    empty = init(tmp_path / "empty")
    inp = _input(findings=[], kpis=[])
    path = write_format(
        fmt, report_model(empty, inp, "en", formats=(fmt,)), tmp_path / f"empty.{fmt}"
    )
    data = path.read_bytes()
    assert data[:4] in (b"%PDF", b"PK\x03\x04", b"<!DO")
    if fmt == "xlsx":
        assert openpyxl.load_workbook(path)["Findings"].max_row == 1
    if fmt == "pptx":
        assert "No serious problems were found" in _slide_texts(
            list(Presentation(str(path)).slides)[2]
        )
    assert not list(tmp_path.glob(".empty*"))  # no temporary file left behind


def test_unknown_format_is_refused(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(EigyoError, match="pdf, xlsx, pptx"):
        write_format("docx", report_model(ws, _input(), "en", formats=()), tmp_path / "r.docx")


def test_static_chart_draws_hostile_labels_as_text() -> None:
    fig = (
        '{"data": [{"type": "bar", "x": ["&lt;b&gt;x&lt;/b&gt;", "$IT$", "東日本"], '
        '"y": [0.1, 0.5, 0.9], "texttemplate": "%{y:.0%}"}], '
        '"layout": {"yaxis": {"tickformat": ".0%", "title": {"text": "受注率"}}}}'
    )
    png = chart_png(Chart("c", "t", fig))  # a glyph missing from the font would warn (error)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_cli_writes_each_format_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = init(tmp_path / "w")
    insert(w, "reps", REPS)
    insert(w, "opportunities", OPPS)
    w.close()
    for fmt in ("xlsx", "pptx"):
        main(["report", "--workspace", str(tmp_path / "w"), "-p", "FY2024", "-f", fmt,
              "--lang", "en"])  # fmt: skip
        path = tmp_path / "w" / f"report-FY2024-en.{fmt}"
        assert path.exists()
        assert str(path) in capsys.readouterr().out.replace("\n", "")
    with pytest.raises(SystemExit) as e:
        main(["report", "--workspace", str(tmp_path / "w"), "-p", "FY2024", "-f", "docx"])
    assert e.value.code == 2


def test_report_files_bytes_are_complete(files: dict[str, Path]) -> None:
    """Each file opens as the container it claims to be (zip for Office, trailer for PDF)."""
    for key, path in files.items():
        data = path.read_bytes()
        if key.startswith("pdf"):
            assert data.rstrip().endswith(b"%%EOF")
        else:
            assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
