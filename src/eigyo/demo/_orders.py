"""Orders: every won deal books one, and customers keep buying add-ons afterwards.

Add-on purchases follow the process that BG/NBD assumes (purchases at a customer-specific Poisson
rate, a customer-specific chance of going quiet after each one), so ``eigyo ltv`` has real repeat
behaviour to fit. Account managers' expansion and renewal wins add the larger repeat orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eigyo.demo import _calendar as cal
from eigyo.demo._config import I64, PRODUCT_WEIGHTS
from eigyo.demo._deals import TYPE_NEW, Deals
from eigyo.demo._stages import WON, Flow

MAX_ADDONS = 12
ADDON_MEDIAN = 250_000


@dataclass(frozen=True)
class Orders:
    account: I64
    at: I64
    amount: I64
    product: I64
    deal: I64  # -1 for add-on orders placed without a deal


def build_orders(rng: np.random.Generator, deals: Deals, flow: Flow, amount: I64) -> Orders:
    """Orders of won deals, then the add-ons that follow each new customer's first order."""
    won = np.flatnonzero(flow.status == WON)
    first = won[deals.type[won] == TYPE_NEW]
    m = len(first)
    rate = rng.gamma(1.2, 1.0, m)  # purchases per year
    quit_p = rng.beta(1.5, 5.0, m)
    allowed = np.minimum(rng.geometric(quit_p) - 1, MAX_ADDONS)
    gaps = rng.exponential(1.0, (m, MAX_ADDONS)) / rate[:, None] * 365.0 * cal.DAY
    at = flow.close[first][:, None] + np.cumsum(gaps, axis=1).astype(np.int64)
    at = at - at % 60
    ok = (np.arange(MAX_ADDONS)[None, :] < allowed[:, None]) & (at < cal.END_TS)
    rows, cols = np.nonzero(ok)
    n_add = len(rows)
    add_amount = np.rint(ADDON_MEDIAN * rng.lognormal(0, 0.6, n_add) / 1e4) * 1e4
    return Orders(
        account=np.concatenate([deals.account[won], deals.account[first][rows]]).astype(np.int64),
        at=np.concatenate([flow.close[won], at[rows, cols]]).astype(np.int64),
        amount=np.concatenate([amount[won], np.maximum(10_000, add_amount)]).astype(np.int64),
        product=np.concatenate(
            [deals.product[won], rng.choice(len(PRODUCT_WEIGHTS), n_add, p=PRODUCT_WEIGHTS)]
        ).astype(np.int64),
        deal=np.concatenate([won, np.full(n_add, -1)]).astype(np.int64),
    )
