"""Test helper: a hand-made company for the forecast whose deals mostly lack expected close
dates (as the public Maven CRM data set's all do), shared by the analysis and the page tests."""

from __future__ import annotations

from typing import Any

#: r1's open deals never had a close date (the Maven CRM data set has none at all); r2 has one
#: CRM commit with a close date, one undated deal and a deal won in May; r3 only a win.
UNDATED_ROWS: dict[str, list[dict[str, Any]]] = {
    "reps": [
        {"rep_id": "r1", "name": "佐藤", "team": "A", "role": "closer", "hire_date": "2024-01-01"},
        {"rep_id": "r2", "name": "鈴木", "team": "B", "role": "closer", "hire_date": "2024-01-01"},
        {"rep_id": "r3", "name": "高橋", "team": "B", "role": "closer", "hire_date": "2024-01-01"},
    ],
    "opportunities": [
        {"opportunity_id": "u1", "owner_rep_id": "r1", "amount": 100, "status": "open",
         "created_at": "2025-03-01 09:00:00"},
        {"opportunity_id": "u2", "owner_rep_id": "r1", "amount": 200, "status": "open",
         "created_at": "2025-03-01 09:00:00"},
        {"opportunity_id": "d1", "owner_rep_id": "r2", "amount": 1000, "status": "open",
         "created_at": "2025-04-10 09:00:00", "expected_close_date": "2025-05-20",
         "forecast_category": "commit"},
        {"opportunity_id": "u3", "owner_rep_id": "r2", "amount": 300, "status": "open",
         "created_at": "2025-04-10 09:00:00"},
        {"opportunity_id": "w3", "owner_rep_id": "r2", "amount": 400, "status": "won",
         "created_at": "2025-04-05 09:00:00", "closed_at": "2025-05-10 10:00:00",
         "expected_close_date": "2025-05-10"},
        {"opportunity_id": "w1", "owner_rep_id": "r1", "amount": 500, "status": "won",
         "created_at": "2025-03-01 09:00:00", "closed_at": "2025-04-10 10:00:00"},
        {"opportunity_id": "w2", "owner_rep_id": "r3", "amount": 700, "status": "won",
         "created_at": "2025-03-01 09:00:00", "closed_at": "2025-04-15 10:00:00"},
    ],
}  # fmt: skip
