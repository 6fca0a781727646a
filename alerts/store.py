"""What the alerts service needs from storage, independent of the database.

Why an interface: one substation office runs on the SQLite file next to the
service; a province wants PostgreSQL shared by several API processes. Both
implement `AlertStore`; the dispatcher, the HTTP API and the CLI only speak
to this interface. The SQLite implementation is `gridwatch.alerts.sqlite_store`.

Every method is a short synchronous transaction: the callers are an asyncio
dispatcher and an aiohttp server whose stores are local and fast, and an
idempotent, transactional store is what lets the dispatcher commit Kafka
offsets only after an alert is safely written.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from .model import Alert


@dataclass
class AlertQuery:
    """Filter for listing alerts; empty fields match everything."""

    status: str = ""
    work_state: str = ""
    kind: str = ""
    severity: str = ""
    area: str = ""
    feeder: str = ""
    team: str = ""
    assignee: str = ""
    started_since: float = 0.0
    limit: int = 100
    offset: int = 0


@dataclass
class AuditEntry:
    """One change to a work order: who did what, when, with which details."""

    alert_id: str
    at: float
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class NotifyRecord:
    """What one integration last received for one alert group (survives restarts)."""

    group_key: str
    integration: str
    sent_at: float
    firing: list[str]
    resolved: list[str]


@dataclass
class Silence:
    """Mute alerts matching all `matchers` between `starts_at` and `ends_at`."""

    id: str
    matchers: list[str]
    starts_at: float
    ends_at: float
    author: str
    comment: str
    created_at: float = 0.0


@dataclass
class ApiToken:
    """An API client: its role, its team (inspectors), and the hash of its secret."""

    name: str
    role: str
    team: str
    token_sha256: str
    created_at: float = 0.0


@dataclass
class DeliveryDeadLetter:
    """A notification an integration could not take after every retry."""

    integration: str
    group_key: str
    at: float
    attempts: int
    error: str
    payload: dict[str, Any] = field(default_factory=dict)


class AlertStore(abc.ABC):
    """Alerts, work orders, audit trail, notification log, silences and API tokens."""

    @abc.abstractmethod
    def upsert_alerts(self, alerts: list[Alert]) -> list[Alert]:
        """Insert new alerts or merge a newer sighting into the stored one, atomically.

        Returns the stored versions. Idempotent: storing the same record twice
        changes nothing, which is what makes Kafka redelivery harmless.
        """

    @abc.abstractmethod
    def change_cursor(self) -> int:
        """The number of the latest change to any alert (0 when there is none)."""

    @abc.abstractmethod
    def changed_since(self, cursor: int, limit: int = 1000) -> tuple[list[Alert], int]:
        """Alerts stored or changed after change `cursor`, in order, and the new cursor.

        This is how the notifying dispatcher learns of alerts that any dispatcher
        (or the API) wrote: intake scales out by Kafka partitions, notifying stays
        with one leader.
        """

    @abc.abstractmethod
    def acquire_lease(self, name: str, holder: str, ttl_s: float, now: float) -> bool:
        """Take or renew the lease `name` for `ttl_s`; False while another holder has it."""

    @abc.abstractmethod
    def release_lease(self, name: str, holder: str) -> None: ...

    @abc.abstractmethod
    def get_alert(self, alert_id: str) -> Alert | None: ...

    @abc.abstractmethod
    def list_alerts(self, query: AlertQuery) -> list[Alert]: ...

    @abc.abstractmethod
    def active_alerts(self) -> list[Alert]:
        """Alerts the dispatcher must still think about: firing, unsettled, or resolved
        but still present in some group's notification log."""

    @abc.abstractmethod
    def unsettled_ids(self, alert_ids: list[str]) -> set[str]:
        """Those of `alert_ids` the notifier has not finished with.

        A new alert is unsettled until every integration owed its news has it
        (or it was muted to the end): an alert that fired and resolved while a
        receiver was down, or before its group's first flush, is still
        announced, also after a dispatcher restart.
        """

    @abc.abstractmethod
    def settle_alerts(self, alert_ids: list[str]) -> None:
        """Mark alerts the notifier has nothing more to say about."""

    @abc.abstractmethod
    def save_work_order(self, alert: Alert, entry: AuditEntry) -> None:
        """Persist the work-order fields of `alert` and its audit entry together."""

    @abc.abstractmethod
    def audit_trail(self, alert_id: str) -> list[AuditEntry]: ...

    @abc.abstractmethod
    def get_notify_records(self) -> list[NotifyRecord]: ...

    @abc.abstractmethod
    def put_notify_records(self, records: list[NotifyRecord]) -> None:
        """Replace what these integrations were told, in one transaction."""

    @abc.abstractmethod
    def delete_notify_records(self, group_key: str) -> None: ...

    @abc.abstractmethod
    def add_delivery_deadletter(self, letter: DeliveryDeadLetter) -> None: ...

    @abc.abstractmethod
    def delivery_deadletters(self, limit: int = 100) -> list[DeliveryDeadLetter]: ...

    @abc.abstractmethod
    def mark_escalated(self, alert_id: str, at: float) -> bool:
        """Record that `alert_id` was escalated; False if it already was."""

    @abc.abstractmethod
    def escalated_ids(self) -> set[str]: ...

    @abc.abstractmethod
    def add_silence(self, silence: Silence) -> None: ...

    @abc.abstractmethod
    def list_silences(self, include_expired: bool = False, now: float = 0.0) -> list[Silence]: ...

    @abc.abstractmethod
    def get_silence(self, silence_id: str) -> Silence | None: ...

    @abc.abstractmethod
    def expire_silence(self, silence_id: str, at: float) -> bool: ...

    @abc.abstractmethod
    def add_token(self, token: ApiToken) -> None: ...

    @abc.abstractmethod
    def find_token(self, token_sha256: str) -> ApiToken | None: ...

    @abc.abstractmethod
    def list_tokens(self) -> list[ApiToken]: ...

    @abc.abstractmethod
    def closed_alerts(self, since: float = 0.0) -> list[Alert]:
        """Work orders closed with a finding, oldest first: the field's labels."""

    @abc.abstractmethod
    def close(self) -> None: ...
