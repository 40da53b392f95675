"""Believable Japanese names for people and companies, built by indexing small word lists.

Names are drawn as integer codes and joined by polars, so a million accounts cost no Python loop.
They are fictional combinations; any resemblance to a real company is accidental.
"""

from __future__ import annotations

import numpy as np
import polars as pl

FAMILY = (
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
    "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水",
    "山崎", "森", "池田", "橋本", "阿部", "石川", "前田", "藤田", "小川", "岡田",
)  # fmt: skip
GIVEN = (
    "健太", "翔太", "大輔", "拓也", "直樹", "亮", "誠", "和也", "達也", "悠斗",
    "美咲", "彩", "由美", "恵", "愛", "真由美", "さくら", "陽子", "葵", "結衣",
)  # fmt: skip
COMPANY_CORE = (
    "東和", "大和", "富士", "三和", "中央", "北斗", "青葉", "朝日", "日進", "昭栄",
    "光洋", "協和", "丸山", "松風", "新星", "平和", "若葉", "桜井", "菱川", "千代田",
    "明星", "東邦", "西日本", "旭", "瑞穂", "白鷺", "泉", "錦", "常盤", "翠嶺",
)  # fmt: skip
#: Company-name endings per industry, in the order of ``INDUSTRIES``.
INDUSTRY_SUFFIX = (
    ("製作所", "工業", "精機", "化学"),
    ("システムズ", "テクノロジー", "ソフト", "ネットワークス"),
    ("証券", "ファイナンス", "保険", "キャピタル"),
    ("商店", "ストア", "百貨店", "マート"),
    ("メディカル", "ヘルスケア", "薬品", "医療サービス"),
    ("建設", "工務店", "組", "ハウス"),
    ("サービス", "コンサルティング", "企画", "物流"),
)


def _pick(words: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    return pl.Series(words).gather(pl.Series(codes.astype(np.int64)))


def person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """``佐藤 健太``-style full names (family name first, as Japanese CRMs show them)."""
    fam = _pick(FAMILY, rng.integers(0, len(FAMILY), n))
    giv = _pick(GIVEN, rng.integers(0, len(GIVEN), n))
    return pl.select(pl.concat_str([pl.lit(fam), pl.lit(giv)], separator=" ")).to_series()


def company_names(rng: np.random.Generator, industry: np.ndarray) -> pl.Series:
    """``株式会社東和製作所`` or ``富士ソフト株式会社``: 株式会社 goes first or last."""
    n = len(industry)
    core = _pick(COMPANY_CORE, rng.integers(0, len(COMPANY_CORE), n))
    flat = tuple(s for group in INDUSTRY_SUFFIX for s in group)
    suffix = _pick(flat, industry.astype(np.int64) * 4 + rng.integers(0, 4, n))
    front = pl.Series(rng.random(n) < 0.6)
    df = pl.DataFrame({"core": core, "suffix": suffix, "front": front})
    name = (
        pl.when(pl.col("front"))
        .then(pl.concat_str([pl.lit("株式会社"), pl.col("core"), pl.col("suffix")]))
        .otherwise(pl.concat_str([pl.col("core"), pl.col("suffix"), pl.lit("株式会社")]))
    )
    return df.select(name.alias("name")).to_series()
