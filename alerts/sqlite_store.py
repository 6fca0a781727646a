"""The default `AlertStore`: one SQLite file in WAL mode.

Why WAL with ``synchronous=FULL``: the dispatcher commits its Kafka offset
right after a write returns, so the write must be on disk by then; WAL lets
the HTTP API and the CLI read (and make small writes) from other processes
while the dispatcher writes, each waiting briefly on a busy lock instead of
failing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .model import Alert, merge_sighting
from .store import (
    AlertQuery,
    AlertStore,
    ApiToken,
    AuditEntry,
    DeliveryDeadLetter,
    NotifyRecord,
    Silence,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL, entity TEXT NOT NULL,
    area TEXT NOT NULL, feeder TEXT NOT NULL, status TEXT NOT NULL, work_state TEXT NOT NULL,
    team TEXT NOT NULL, assignee TEXT NOT NULL, started_at REAL NOT NULL,
    received_at REAL NOT NULL, closed_at REAL, body TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0, settled INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status);
CREATE INDEX IF NOT EXISTS alerts_team ON alerts(team, work_state);
CREATE INDEX IF NOT EXISTS alerts_closed ON alerts(closed_at);
CREATE INDEX IF NOT EXISTS alerts_started ON alerts(started_at);
CREATE INDEX IF NOT EXISTS alerts_seq ON alerts(seq);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, at REAL NOT NULL,
    actor TEXT NOT NULL, action TEXT NOT NULL, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_alert ON audit(alert_id);
CREATE TABLE IF NOT EXISTS notify_log (
    group_key TEXT NOT NULL, integration TEXT NOT NULL, sent_at REAL NOT NULL,
    firing TEXT NOT NULL, resolved TEXT NOT NULL, PRIMARY KEY (group_key, integration));
CREATE TABLE IF NOT EXISTS delivery_deadletters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, integration TEXT NOT NULL, group_key TEXT NOT NULL,
    at REAL NOT NULL, attempts INTEGER NOT NULL, error TEXT NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS escalations (alert_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY, matchers TEXT NOT NULL, starts_at REAL NOT NULL, ends_at REAL NOT NULL,
    author TEXT NOT NULL, comment TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, team TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE, created_at REAL NOT NULL);
"""

FILTER_COLUMNS = ("status", "work_state", "kind", "severity", "area", "feeder", "team",
                  "assignee")


class SqliteAlertStore(AlertStore):
    """`AlertStore` on a local SQLite file (``:memory:`` for throwaway use)."""

    def __init__(self, path: str | Path, busy_timeout_s: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._add_missing_columns()
        self._db.executescript(SCHEMA)

    def _add_missing_columns(self) -> None:
        """Older stores get the newer columns: change numbers (all zero) and `settled`
        (all one: what an older dispatcher had, it had finished with)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(alerts)")}
        if columns and "seq" not in columns:
            self._db.execute("ALTER TABLE alerts ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")
        if columns and "settled" not in columns:
            self._db.execute("ALTER TABLE alerts ADD COLUMN settled INTEGER NOT NULL DEFAULT 1")

    def _tx(self, statements: Iterable[tuple[str, tuple[Any, ...]]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _next_seq(self) -> int:
        """The next change number; callers hold the write transaction, so it is unique."""
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts").fetchone()[0]

    def upsert_alerts(self, alerts: list[Alert]) -> list[Alert]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._next_seq()
                stored = [self._upsert_one(alert, seq + i) for i, alert in enumerate(alerts)]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return stored

    def _upsert_one(self, alert: Alert, seq: int) -> Alert:
        row = self._db.execute("SELECT body, settled FROM alerts WHERE id = ?",
                               (alert.id,)).fetchone()
        merged = alert if row is None else merge_sighting(Alert.from_dict(json.loads(row[0])),
                                                         alert)
        self._db.execute(
            "INSERT OR REPLACE INTO alerts (id, kind, severity, entity, area, feeder, status, "
            "work_state, team, assignee, started_at, received_at, closed_at, body, seq, settled) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (merged.id, merged.kind, merged.severity, merged.entity, merged.area, merged.feeder,
             merged.status, merged.work_state, merged.team, merged.assignee, merged.started_at,
             merged.received_at, merged.closed_at, json.dumps(merged.to_dict()), seq,
             0 if row is None else row[1]))
        return merged

    def change_cursor(self) -> int:
        return self._query("SELECT COALESCE(MAX(seq), 0) FROM alerts")[0][0]

    def changed_since(self, cursor: int, limit: int = 1000) -> tuple[list[Alert], int]:
        rows = self._query("SELECT seq, body FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?",
                           (cursor, limit))
        alerts = [Alert.from_dict(json.loads(body)) for _, body in rows]
        return alerts, (rows[-1][0] if rows else cursor)

    def acquire_lease(self, name: str, holder: str, ttl_s: float, now: float) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT holder, expires_at FROM leases WHERE name = ?",
                                       (name,)).fetchone()
                won = row is None or row[0] == holder or row[1] <= now
                if won:
                    self._db.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)",
                                     (name, holder, now + ttl_s))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return won

    def release_lease(self, name: str, holder: str) -> None:
        self._tx([("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))])

    def get_alert(self, alert_id: str) -> Alert | None:
        rows = self._query("SELECT body FROM alerts WHERE id = ?", (alert_id,))
        return Alert.from_dict(json.loads(rows[0][0])) if rows else None

    def list_alerts(self, query: AlertQuery) -> list[Alert]:
        where, params = [], []
        for column in FILTER_COLUMNS:
            value = getattr(query, column)
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if query.started_since:
            where.append("started_at >= ?")
            params.append(query.started_since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"SELECT body FROM alerts {clause} ORDER BY received_at DESC, id "
                           f"LIMIT ? OFFSET ?", (*params, query.limit, query.offset))
        return [Alert.from_dict(json.loads(r[0])) for r in rows]

    def active_alerts(self) -> list[Alert]:
        rows = self._query("SELECT body FROM alerts WHERE status = 'firing' OR settled = 0")
        alerts = [Alert.from_dict(json.loads(r[0])) for r in rows]
        firing = {a.id for a in alerts}
        told = {aid for record in self.get_notify_records() for aid in record.firing} - firing
        for alert_id in sorted(told):
            alert = self.get_alert(alert_id)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def unsettled_ids(self, alert_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(alert_ids), 500):
            chunk = alert_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found |= {r[0] for r in self._query(
                f"SELECT id FROM alerts WHERE settled = 0 AND id IN ({marks})", tuple(chunk))}
        return found

    def settle_alerts(self, alert_ids: list[str]) -> None:
        self._tx([("UPDATE alerts SET settled = 1 WHERE id = ?", (a,)) for a in alert_ids])

    def save_work_order(self, alert: Alert, entry: AuditEntry) -> None:
        self._tx([
            ("UPDATE alerts SET work_state=?, team=?, assignee=?, closed_at=?, body=?, "
             "seq=(SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts) WHERE id=?",
             (alert.work_state, alert.team, alert.assignee, alert.closed_at,
              json.dumps(alert.to_dict()), alert.id)),
            self._audit_insert(entry),
        ])

    @staticmethod
    def _audit_insert(entry: AuditEntry) -> tuple[str, tuple[Any, ...]]:
        return ("INSERT INTO audit (alert_id, at, actor, action, details) VALUES (?,?,?,?,?)",
                (entry.alert_id, entry.at, entry.actor, entry.action, json.dumps(entry.details)))

    def audit_trail(self, alert_id: str) -> list[AuditEntry]:
        rows = self._query("SELECT alert_id, at, actor, action, details FROM audit "
                           "WHERE alert_id = ? ORDER BY seq", (alert_id,))
        return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def get_notify_records(self) -> list[NotifyRecord]:
        rows = self._query("SELECT group_key, integration, sent_at, firing, resolved "
                           "FROM notify_log")
        return [NotifyRecord(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows]

    def put_notify_records(self, records: list[NotifyRecord]) -> None:
        self._tx([("INSERT OR REPLACE INTO notify_log VALUES (?,?,?,?,?)",
                   (r.group_key, r.integration, r.sent_at, json.dumps(sorted(r.firing)),
                    json.dumps(sorted(r.resolved)))) for r in records])

    def delete_notify_records(self, group_key: str) -> None:
        self._tx([("DELETE FROM notify_log WHERE group_key = ?", (group_key,))])

    def add_delivery_deadletter(self, letter: DeliveryDeadLetter) -> None:
        self._tx([("INSERT INTO delivery_deadletters (integration, group_key, at, attempts, "
                   "error, payload) VALUES (?,?,?,?,?,?)",
                   (letter.integration, letter.group_key, letter.at, letter.attempts,
                    letter.error, json.dumps(letter.payload)))])

    def delivery_deadletters(self, limit: int = 100) -> list[DeliveryDeadLetter]:
        rows = self._query("SELECT integration, group_key, at, attempts, error, payload "
                           "FROM delivery_deadletters ORDER BY seq DESC LIMIT ?", (limit,))
        return [DeliveryDeadLetter(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def mark_escalated(self, alert_id: str, at: float) -> bool:
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO escalations VALUES (?, ?)",
                                      (alert_id, at))
            return cursor.rowcount == 1

    def escalated_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT alert_id FROM escalations")}

    def add_silence(self, silence: Silence) -> None:
        self._tx([("INSERT INTO silences VALUES (?,?,?,?,?,?,?)",
                   (silence.id, json.dumps(silence.matchers), silence.starts_at,
                    silence.ends_at, silence.author, silence.comment, silence.created_at))])

    @staticmethod
    def _silence(row: tuple[Any, ...]) -> Silence:
        return Silence(row[0], json.loads(row[1]), row[2], row[3], row[4], row[5], row[6])

    def list_silences(self, include_expired: bool = False, now: float = 0.0) -> list[Silence]:
        if include_expired:
            rows = self._query("SELECT * FROM silences ORDER BY starts_at")
        else:
            rows = self._query("SELECT * FROM silences WHERE ends_at > ? ORDER BY starts_at",
                               (now,))
        return [self._silence(r) for r in rows]

    def get_silence(self, silence_id: str) -> Silence | None:
        rows = self._query("SELECT * FROM silences WHERE id = ?", (silence_id,))
        return self._silence(rows[0]) if rows else None

    def expire_silence(self, silence_id: str, at: float) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?",
                (at, silence_id, at))
            return cursor.rowcount == 1

    def add_token(self, token: ApiToken) -> None:
        self._tx([("INSERT INTO tokens VALUES (?,?,?,?,?)",
                   (token.name, token.role, token.team, token.token_sha256, token.created_at))])

    def find_token(self, token_sha256: str) -> ApiToken | None:
        rows = self._query("SELECT * FROM tokens WHERE token_sha256 = ?", (token_sha256,))
        return ApiToken(*rows[0]) if rows else None

    def list_tokens(self) -> list[ApiToken]:
        return [ApiToken(*r) for r in self._query("SELECT * FROM tokens ORDER BY name")]

    def closed_alerts(self, since: float = 0.0) -> list[Alert]:
        rows = self._query("SELECT body FROM alerts WHERE closed_at IS NOT NULL AND closed_at >= ? "
                           "ORDER BY closed_at, id", (since,))
        return [Alert.from_dict(json.loads(r[0])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
