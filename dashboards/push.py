"""`gridwatch dashboards push`: install or update the dashboards through the Grafana HTTP API.

Why `grafana-client`: the card names `grafana-api`, which has had no release
since 2020; `grafana-client` is its maintained fork (same object model:
``api.folder``, ``api.datasource``, ``api.dashboard``). Pushing is
idempotent: the folder and datasources are created when missing and updated
otherwise, dashboards are saved with ``overwrite`` under their stable uids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from ..config import Settings
from .provisioning import FOLDER, dashboard_documents, datasources

FOLDER_UID = "gridwatch"
NOT_FOUND = 404


@dataclass
class PushResult:
    """What the push did, for the command's output."""

    folder: str = ""
    datasources: dict[str, str] = field(default_factory=dict)   # uid -> created | updated
    dashboards: dict[str, str] = field(default_factory=dict)    # uid -> url in Grafana

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "datasources": self.datasources,
                "dashboards": self.dashboards}


def _missing(call: Any, *args: Any) -> bool:
    """Whether a GET answers 404 (other errors propagate with Grafana's message)."""
    try:
        call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == NOT_FOUND:
            return True
        raise
    return False


def push(settings: Settings, url: str, token: str, influx_url: str,
         timeout_s: float = 10.0) -> PushResult:
    """Install or update the folder, both datasources and every dashboard at `url`."""
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)
    result = PushResult(folder=FOLDER_UID)
    if _missing(api.folder.get_folder, FOLDER_UID):
        api.folder.create_folder(FOLDER, uid=FOLDER_UID)
    for source in datasources(settings, influx_url)["datasources"]:
        if _missing(api.datasource.get_datasource_by_uid, source["uid"]):
            api.datasource.create_datasource(source)
            result.datasources[source["uid"]] = "created"
        else:
            api.datasource.update_datasource_by_uid(source["uid"], source)
            result.datasources[source["uid"]] = "updated"
    for uid, document in dashboard_documents(settings).items():
        answer = api.dashboard.update_dashboard({
            "dashboard": document, "folderUid": FOLDER_UID, "overwrite": True,
            "message": "gridwatch dashboards push"})
        result.dashboards[uid] = url.rstrip("/") + str(answer.get("url", ""))
    return result
