"""What the demo company is, declared as data: dates, teams, vocabularies, scales, planted effects.

Every number that shapes the data lives here so that the generator code stays mechanical and the
documentation (``docs/demo-company.md``) and ``truth.json`` can quote the same values. The planted
problems are one :class:`Plant`; ``clean=True`` swaps in :data:`CLEAN`, whose every field is the
baseline, so a clean company differs from a troubled one only where a problem was planted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

COMPANY = "株式会社さくらクラウド"
#: First and last day of the data (FY2024 and FY2025, April start).
START = date(2024, 4, 1)
END = date(2026, 3, 31)
#: Leads and deals start this early so that FY2024 begins with a pipeline already in flight;
#: records that finished before START are dropped before writing.
WARM = date(2023, 10, 2)
#: The day inside sales starts in 東京第二営業部 (intervention INT-001).
INSIDE_SALES_START = date(2025, 4, 1)

STAGES = ("見込み", "評価", "商談", "提案", "交渉", "受注", "失注")
N_OPEN_STAGES = 5  # 見込み .. 交渉; 受注 and 失注 close a deal
WON_STAGE, LOST_STAGE = 5, 6

PRODUCTS = ("クラウド会計", "勤怠管理", "経費精算", "人事労務")
PRODUCT_WEIGHTS = (0.30, 0.25, 0.25, 0.20)
PRODUCT_PRICE = (1.25, 0.85, 0.75, 1.05)  # multiplier of the median deal amount

INDUSTRIES = ("製造業", "IT・通信", "金融", "小売", "医療", "建設", "サービス")
INDUSTRY_WEIGHTS = (0.06, 0.22, 0.12, 0.16, 0.12, 0.12, 0.20)
MANUFACTURING = 0

SOURCES = ("Web問い合わせ", "展示会", "ウェビナー", "紹介", "テレアポ", "広告")
SOURCE_WEIGHTS = (0.30, 0.15, 0.15, 0.10, 0.15, 0.15)
TRADE_SHOW = 1

LEAD_TITLES = (
    "代表取締役",
    "経理部長",
    "総務課長",
    "人事部マネージャー",
    "情報システム担当",
    "経理担当",
)
LOST_REASONS = ("価格", "競合", "時期尚早", "機能不足", "予算なし", "連絡途絶")
CAPABILITIES = ("ヒアリング", "提案力", "クロージング", "製品知識")
ONBOARDING = "新人オンボーディング研修"
#: (program, capability) of the regular trainings every seller takes now and then.
PROGRAMS = (
    ("クラウド会計 製品研修", "製品知識"),
    ("勤怠管理 製品研修", "製品知識"),
    ("経費精算 製品研修", "製品知識"),
    ("人事労務 製品研修", "製品知識"),
    ("ヒアリング研修", "ヒアリング"),
    ("提案力強化研修", "提案力"),
    ("クロージング研修", "クロージング"),
)
ASSESSMENT_DATES = (date(2024, 9, 30), date(2025, 3, 31), date(2025, 9, 30), date(2026, 3, 31))

ROLE_GENERALIST, ROLE_SDR, ROLE_CLOSER, ROLE_AM, ROLE_MANAGER = (
    "generalist",
    "sdr",
    "closer",
    "account_manager",
    "manager",
)

# ---------------------------------------------------------------- funnel baseline
#: Probability of leaving each open stage forward (見込み, 評価, 商談, 提案, 交渉).
STAGE_P_NEW = (0.85, 0.82, 0.78, 0.65, 0.85)
STAGE_P_EXPANSION = (0.92, 0.90, 0.86, 0.80, 0.90)
STAGE_P_RENEWAL = (0.99, 0.98, 0.96, 0.95, 0.97)
STAGE_P_CAP = 0.985
#: Median business days spent in each open stage (log-normal, sigma below).
DWELL_MEDIAN = (3.0, 6.0, 8.0, 10.0, 7.0)
DWELL_SIGMA = 0.6
#: Median business days from deal creation to the first meeting (log-normal).
FIRST_MEETING_MEDIAN = 1.2
SKIP_QUALIFICATION = 0.08  # deals that jump from 見込み straight to 商談
SKIP_NEGOTIATION = 0.05  # deals won straight from 提案
BACKWARD = 0.04  # deals in 交渉 that fall back to 提案 once
AMOUNT_MEDIAN = 1_500_000
AMOUNT_SIGMA = 0.55
SLIP_P = 0.20
AMOUNT_CHANGE_P = 0.20
BASE_ZOMBIE_P = 0.02  # would-be-lost deals simply abandoned (open, no activity)

# ---------------------------------------------------------------- leads baseline
LEADS_PER_REP_DAY = 1.0
MQL_P = 0.85
UNTOUCHED_P = 0.05
RESPONSE_MEDIAN_MIN = 25.0
RESPONSE_SIGMA = 0.95
SQL_P = 0.60
#: Deal probability falls with slow answers: p = SQL_P * (floor + (1-floor) * exp(-min/scale)).
SQL_RESPONSE_FLOOR, SQL_RESPONSE_SCALE = 0.6, 240.0
CALL_CONNECT_P = 0.30
EMAIL_REPLY_P = 0.35
MEETING_NO_SHOW_P = 0.08
OPP_TOUCH_PER_DAY = 0.45  # calls and e-mails per business day of an open deal

# ---------------------------------------------------------------- time use baseline
#: Shares of a day: selling, admin, internal, training, travel.
TIME_SHARES = (0.57, 0.20, 0.12, 0.04, 0.07)
MANAGER_TIME_SHARES = (0.25, 0.25, 0.40, 0.03, 0.07)
#: Quarterly quota in yen by role; a rep's first quarter after hire gets half.
QUOTA = {
    ROLE_GENERALIST: 14_000_000,
    ROLE_CLOSER: 20_000_000,
    ROLE_SDR: 9_000_000,
    ROLE_AM: 16_000_000,
}


@dataclass(frozen=True)
class Plant:
    """Strength of every planted problem; :data:`CLEAN` sets each to the baseline.

    Each field is read in exactly one place of the generator and quoted in ``truth.json``.
    """

    osaka_win_mult: float = 0.42  # 1: 大阪 win rate ~15% instead of ~30%
    osaka_zombie_p: float = 0.15  # 9: would-be-lost 大阪 deals left open, stale, undated
    base_zombie_p: float = BASE_ZOMBIE_P  # everyday CRM neglect elsewhere (none when clean)
    nagoya_stage_p: tuple[float, ...] | None = (0.95, 0.95, 0.95, 0.42, 0.88)  # 2
    nagoya_dwell_mult: float = 3.0  # 2: time in 提案
    slip_rep_p: float = 0.70  # 3: one 東京第一 rep pushes close dates
    slow_handoff_median: float = 6.0  # 4: business days to the closer's first meeting
    slow_handoff_win_mult: float = 0.5  # 4
    tokyo1_response_median: float = 270.0  # 5: minutes
    tokyo1_response_sigma: float = 1.8  # 5
    trade_show_untouched_p: float = 0.40  # 6
    untrained_win_mult: float = 0.5  # 7
    untrained: bool = True  # 7: the 3 new 福岡 reps skip onboarding
    manufacturing_win_mult: float = 2.2  # 8
    nagoya_admin_share: float = 0.45  # 10
    inside_sales_from: date = INSIDE_SALES_START  # 11
    sdr_response_median: float = 12.0  # 11: minutes, once SDRs answer leads
    sdr_response_sigma: float = 0.7  # 11
    sdr_sql_mult: float = 1.40  # 11: SDR qualification lifts lead conversion
    sdr_win_mult: float = 1.30  # 11
    intervention: bool = True  # 11


PLANTED = Plant()
CLEAN = Plant(
    osaka_win_mult=1.0,
    osaka_zombie_p=0.0,
    base_zombie_p=0.0,
    nagoya_stage_p=None,
    nagoya_dwell_mult=1.0,
    slip_rep_p=SLIP_P,
    slow_handoff_median=FIRST_MEETING_MEDIAN,
    slow_handoff_win_mult=1.0,
    tokyo1_response_median=RESPONSE_MEDIAN_MIN,
    tokyo1_response_sigma=RESPONSE_SIGMA,
    trade_show_untouched_p=UNTOUCHED_P,
    untrained_win_mult=1.0,
    untrained=False,
    manufacturing_win_mult=1.0,
    nagoya_admin_share=TIME_SHARES[1],
    inside_sales_from=WARM,
    sdr_response_median=RESPONSE_MEDIAN_MIN,
    sdr_response_sigma=RESPONSE_SIGMA,
    sdr_sql_mult=1.0,
    sdr_win_mult=1.0,
    intervention=False,
)


# ---------------------------------------------------------------- organisation
@dataclass(frozen=True)
class Member:
    """One seat of a team template. ``hired`` None means a veteran hired before the data starts."""

    role: str
    hired: date | None = None
    untrained: bool = False  # problem 7 candidate
    slipper: bool = False  # problem 3 candidate
    slow_handoff: bool = False  # problem 4 candidate


@dataclass(frozen=True)
class TeamType:
    """A team of the template company; larger scales repeat each one as sections (課)."""

    key: str
    name: str
    region: str
    members: tuple[Member, ...]

    @property
    def is_account_team(self) -> bool:
        return self.key == "account"


def _seats(role: str, n: int) -> tuple[Member, ...]:
    return tuple(Member(role) for _ in range(n))


G, SDR, CL, AM = ROLE_GENERALIST, ROLE_SDR, ROLE_CLOSER, ROLE_AM
TEAM_TYPES: tuple[TeamType, ...] = (
    TeamType(
        "tokyo1",
        "東京第一営業部",
        "関東",
        (
            Member(G, slipper=True),
            *_seats(G, 3),
            Member(G, date(2024, 10, 1)),
            Member(G, date(2025, 4, 1)),
        ),
    ),
    TeamType(
        "tokyo2",
        "東京第二営業部",
        "関東",
        (
            *_seats(SDR, 3),
            Member(CL, slow_handoff=True),
            *_seats(CL, 2),
            Member(CL, date(2024, 7, 1)),
        ),
    ),
    TeamType("osaka", "大阪営業部", "関西", _seats(G, 6)),
    TeamType("nagoya", "名古屋営業部", "中部", _seats(G, 5)),
    TeamType(
        "fukuoka",
        "福岡営業部",
        "九州",
        (
            *_seats(G, 2),
            Member(G, date(2025, 4, 1), untrained=True),
            Member(G, date(2025, 5, 7), untrained=True),
            Member(G, date(2025, 6, 2), untrained=True),
        ),
    ),
    TeamType("account", "アカウント営業部", "全国", _seats(AM, 4)),
)
TEAM_KEYS = tuple(t.key for t in TEAM_TYPES)
REGIONS_AM = ("関東", "関西", "中部", "九州", "東北", "北海道")
#: Existing customer accounts each account manager looks after.
AM_ACCOUNTS_PER_REP = 60


@dataclass(frozen=True)
class Scale:
    """How many copies (sections) of the template company a scale holds, and how to chunk them."""

    name: str
    replicas: int
    chunk: int  # replicas generated and written together (bounds memory)


SCALES: dict[str, Scale] = {
    "small": Scale("small", 1, 1),
    "medium": Scale("medium", 15, 5),
    "large": Scale("large", 150, 6),
}


def team_name(t: TeamType, replica: int, replicas: int) -> str:
    """``大阪営業部`` at small scale, ``大阪営業部第3課`` when the template is repeated."""
    return t.name if replicas == 1 else f"{t.name}第{replica + 1}課"
