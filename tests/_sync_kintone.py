"""A kintone app on the loopback server, as kintone's REST API documents it.

Field definitions follow the form-fields API (``/k/v1/app/form/fields.json``: ``properties`` by
field code, each with ``type``, ``code`` and ``label``); records follow the Get Records API
(``/k/v1/records.json``: each field ``{"type", "value"}``, ``$id`` and ``$revision``; ``limit`` at
most 500, ``offset`` at most 10,000; ``fields[0]=…`` in the query string returns only the fields
named; ``totalCount=true`` adds the count of records matching the query, as a string, else
``null``; an invalid token answers 401 ``GAIA_IA02``, a token without the app's permission 403
``GAIA_NO01``). Deleting a record (:meth:`App.delete`) leaves no trace the API lists.
:func:`export_csv` writes the same records as the app's CSV export writes them (field names as
headers, times in the user's time zone as ``YYYY-MM-DD HH:MM``, users by display name).
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests._sync_server import Reply, Request

TOKEN = "kintone-token-abcdefghijklmnop"
APP = "12"
FIELDS: list[tuple[str, str, str]] = [  # code, type, label
    ("レコード番号", "RECORD_NUMBER", "レコード番号"),
    ("案件名", "SINGLE_LINE_TEXT", "案件名"),
    ("会社名", "SINGLE_LINE_TEXT", "会社名"),
    ("担当者", "USER_SELECT", "担当者"),
    ("amount", "NUMBER", "見込み金額"),
    ("作成日時", "CREATED_TIME", "作成日時"),
    ("受注予定日", "DATE", "受注予定日"),
    ("ステータス", "DROP_DOWN", "ステータス"),
    ("製品名", "SINGLE_LINE_TEXT", "製品名"),
    ("確度", "DROP_DOWN", "確度"),
    ("更新日時", "UPDATED_TIME", "更新日時"),
    ("明細", "SUBTABLE", "明細"),
]
USERS = [("sato", "佐藤 一郎"), ("suzuki", "鈴木 花子"), ("tanaka", "田中 次郎")]
STATUSES = ["見込み", "提案", "交渉", "受注", "失注"]
T0 = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)


def _z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(i: int) -> dict[str, Any]:
    """Record ``i`` of the app as the Get Records API returns it (made from ``i`` alone, so a
    benchmark can serve a million of them without holding them)."""
    created = T0 + timedelta(hours=7 * i)
    user = USERS[i % len(USERS)]
    status = STATUSES[i % len(STATUSES)] if i % 11 else "その他"
    return {
        "$id": {"type": "__ID__", "value": str(i)},
        "$revision": {"type": "__REVISION__", "value": "1"},
        "レコード番号": {"type": "RECORD_NUMBER", "value": str(i)},
        "案件名": {"type": "SINGLE_LINE_TEXT", "value": f"案件 {i}"},
        "会社名": {"type": "SINGLE_LINE_TEXT", "value": f"株式会社{i % 37}"},
        "担当者": {"type": "USER_SELECT", "value": [{"code": user[0], "name": user[1]}]},
        "amount": {"type": "NUMBER", "value": "" if i % 13 == 0 else str(100000 * (i % 50))},
        "作成日時": {"type": "CREATED_TIME", "value": _z(created)},
        "受注予定日": {
            "type": "DATE",
            "value": (created + timedelta(days=30)).strftime("%Y-%m-%d"),
        },
        "ステータス": {"type": "DROP_DOWN", "value": status},
        "製品名": {"type": "SINGLE_LINE_TEXT", "value": ["A", "B", "C"][i % 3]},
        "確度": {"type": "DROP_DOWN", "value": ["A", "B", "C", "D", ""][i % 5]},
        "更新日時": {"type": "UPDATED_TIME", "value": _z(created + timedelta(days=1))},
        "明細": {"type": "SUBTABLE", "value": []},
    }


class App:
    """The app's records, editable by a test (``edit``/``add``) as users would in kintone."""

    def __init__(self, n: int, labels: dict[str, str] | None = None) -> None:
        #: Field code → field name (label): an app whose owner renamed fields differs here.
        self.labels = {c: lab for c, _, lab in FIELDS} | (labels or {})
        self.records: dict[int, dict[str, Any]] = {}
        for i in range(1, n + 1):
            self.add(i)
        self.clock = T0 + timedelta(hours=7 * n, days=2)  # "now": after every record's update

    def add(self, i: int | None = None) -> int:
        new = i is None
        i = i or max(self.records) + 1
        self.records[i] = record(i)
        if new:
            self.edit(i)
        return i

    def edit(self, i: int, **values: str) -> None:
        """Change fields of record ``i``: a new revision, 更新日時 = now (minute precision)."""
        rec = self.records[i]
        for code, v in values.items():
            rec[code]["value"] = v
        rec["$revision"]["value"] = str(int(rec["$revision"]["value"]) + 1)
        self.clock += timedelta(minutes=1)
        rec["更新日時"]["value"] = _z(self.clock)

    def delete(self, i: int) -> None:
        """Delete record ``i`` as kintone does: gone, with no tombstone to list."""
        del self.records[i]

    def handle(self, req: Request) -> Reply:
        if req.headers.get("x-cybozu-api-token") != TOKEN:
            return Reply(
                401, {"code": "GAIA_IA02", "id": "x1", "message": "APIトークンが不正です。"}
            )
        if req.arg("app") != APP:
            return Reply(403, {"code": "GAIA_NO01", "id": "x2", "message": "権限がありません。"})
        if req.path == "/k/v1/app/form/fields.json":
            props = {c: {"type": t, "code": c, "label": self.labels[c]} for c, t, _ in FIELDS}
            return Reply(200, {"properties": props, "revision": "3"})
        if req.path == "/k/v1/records.json":
            fields = [v[0] for k, v in sorted(req.query.items()) if k.startswith("fields[")]
            return self._records(req.arg("query"), fields, req.arg("totalCount") == "true")
        return Reply(404, {"code": "CB_NF01", "message": "not found"})

    def _records(self, query: str, fields: list[str], count: bool) -> Reply:
        m = re.fullmatch(
            r'(?:(\S+) >= "([^"]+)" and )?\$id > (\d+) order by \$id asc'
            r" limit (\d+)(?: offset (\d+))?",
            query,
        )
        if not m:
            return Reply(400, {"code": "GAIA_IQ11", "message": f"query: {query}"})
        field, since, last, limit = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        if limit > 500 or int(m.group(5) or 0) > 10000:
            return Reply(400, {"code": "CB_VA01", "message": "limit <= 500, offset <= 10000"})
        rows = [
            r
            for i, r in sorted(self.records.items())
            if i > last and (not field or r[field]["value"] >= since)
        ]
        page = [{f: r[f] for f in fields if f in r} if fields else r for r in rows[:limit]]
        return Reply(200, {"records": page, "totalCount": str(len(rows)) if count else None})


def export_csv(app: App, folder: Path, tz: str = "Asia/Tokyo") -> Path:
    """The app's CSV export (一覧 → CSV ファイルに書き出す), written independently of eigyo."""
    zone = ZoneInfo(tz)
    labels = [app.labels[c] for c, t, _ in FIELDS if t != "SUBTABLE"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "案件管理.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(labels)
        for _, r in sorted(app.records.items()):
            row = []
            for code, kind, _ in FIELDS:
                v = r[code]["value"]
                if kind == "SUBTABLE":
                    continue
                if kind in ("CREATED_TIME", "UPDATED_TIME"):
                    at = datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                    v = at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                elif kind == "USER_SELECT":
                    v = "\n".join(u["name"] for u in v)
                row.append(v)
            w.writerow(row)
    return path
