"""Where a `gridwatch up` user looks: dashboards, the work-order page, the APIs.

Why printed by `up`: the run feeds three views, and a new user cannot guess
their addresses. The dashboards are files that Grafana provisions from a
folder (`gridwatch dashboards build --out DIR` writes them); the work-order
page and its JSON API are served by the alert API `up` starts; the metrics
store answers PromQL, which is what those dashboards query.
"""

from __future__ import annotations

from pathlib import Path

DASHBOARDS_SUBDIR = "dashboards"


def dashboards_dir(state_dir: Path) -> Path:
    """The default folder for the dashboards of this stack: ``<state_dir>/dashboards``."""
    return state_dir / DASHBOARDS_SUBDIR


def view_locations(state_dir: Path, config_path: str | None, api_url: str, metrics_url: str,
                   receiver_url: str) -> dict[str, str]:
    """Each view's address (empty values are left out).

    >>> views = view_locations(Path("/s"), None, "http://127.0.0.1:8090",
    ...                        "http://127.0.0.1:8428", "")
    >>> views["work_orders"], views["dashboards_command"]
    ('http://127.0.0.1:8090/ui/', 'gridwatch dashboards build --out /s/dashboards')
    """
    config = f"-c {config_path} " if config_path else ""
    folder = dashboards_dir(state_dir)
    views = {
        "dashboards_dir": str(folder),
        "dashboards_command": f"gridwatch {config}dashboards build --out {folder}",
        "work_orders": f"{api_url}/ui/" if api_url else "",
        "token_command": f"gridwatch {config}alerts token add NAME --role operator",
        "api": f"{api_url}/openapi.json" if api_url else "",
        "metrics": f"{metrics_url.rstrip('/')}/api/v1/query",
        "receiver": receiver_url,
    }
    return {name: where for name, where in views.items() if where}


def views_text(views: dict[str, str]) -> str:
    """The lines of the summary that say where to look."""
    lines = ["where to look (while gridwatch up runs)"]
    if "dashboards_dir" in views:
        lines.append(f"  dashboards        {views['dashboards_command']}")
        lines.append("                    (then point Grafana's provisioning at that folder)")
    if "work_orders" in views:
        lines.append(f"  work-order page   {views['work_orders']}  (log in with a token: "
                     f"{views['token_command']})")
    if "api" in views:
        lines.append(f"  work-order API    {views['api']}")
    lines.append(f"  metrics (PromQL)  {views['metrics']}")
    if "receiver" in views:
        lines.append(f"  alert receiver    {views['receiver']}  (local; set alerts.webhooks or "
                     f"alerts.policy_file for your own)")
    return "\n".join(lines)
