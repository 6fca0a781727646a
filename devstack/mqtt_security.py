"""A Mosquitto set-up for the field: TLS, one account per concentrator, a topic ACL.

Why per concentrator: a concentrator sits in a street cabinet; whoever
opens it holds its credentials. With one account per concentrator and an
ACL that lets it write only ``<prefix>/<its area>/<itself>/readings``, a
stolen or faulty device can forge no other area's readings (the bridge
also refuses a payload whose area differs from its topic). The bridge's
account may only read the readings and write the alerts topic. Anonymous
and plain-text connections are not offered at all.

`gridwatch mqtt-config` writes the files from a CSV of ``concentrator,area``
lines: the hashed password file (made by ``mosquitto_passwd -U``, so no
password appears on a command line), the ACL, the listener configuration,
and ``credentials.csv`` (mode 600) with the generated passwords for
provisioning the devices.
"""

from __future__ import annotations

import csv
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .stack import mosquitto_writable_dir, which_or_raise


@dataclass
class MqttAccount:
    """One broker login and the topics it may write and read."""

    username: str
    password: str
    write: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


def concentrator_account(prefix: str, concentrator: str, area: str,
                         password: str = "") -> MqttAccount:
    """A concentrator may publish its own area's readings, nothing else.

    >>> concentrator_account("gridwatch/v1", "C-F01-A01", "F01-A01", "pw").write
    ['gridwatch/v1/F01-A01/C-F01-A01/readings']
    """
    for name, value in (("concentrator", concentrator), ("area", area)):
        if not value or any(c in value for c in "/+#\n ") or value != value.strip():
            raise ValueError(f"{name} {value!r} cannot be part of an MQTT topic")
    return MqttAccount(concentrator, password or secrets.token_urlsafe(18),
                       write=[f"{prefix}/{area}/{concentrator}/readings"])


def bridge_account(prefix: str, alerts_topic: str, username: str,
                   password: str = "") -> MqttAccount:
    """The bridge reads every area's readings and writes the alerts topic."""
    return MqttAccount(username, password or secrets.token_urlsafe(24),
                       write=[alerts_topic], read=[f"{prefix}/+/+/readings"])


def acl_text(accounts: list[MqttAccount]) -> str:
    """Mosquitto ACL: per user, exactly its topics (anything unlisted is denied)."""
    blocks = []
    for account in accounts:
        lines = [f"user {account.username}"]
        lines += [f"topic write {t}" for t in account.write]
        lines += [f"topic read {t}" for t in account.read]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_password_file(path: Path, accounts: list[MqttAccount],
                        binary: str = "mosquitto_passwd") -> None:
    """Hashed password file: written in clear with mode 600, then hashed in place."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{a.username}:{a.password}\n" for a in accounts)
    subprocess.run([which_or_raise("mosquitto_passwd", binary), "-U", str(path)], check=True,
                   capture_output=True)


def listener_text(host: str, port: int, ca_file: str, cert_file: str, key_file: str,
                  password_file: Path, acl_file: Path) -> str:
    """A TLS-only listener with password authentication and the ACL (for `mosquitto_service`)."""
    return (f"per_listener_settings false\n"
            f"allow_anonymous false\n"
            f"password_file {password_file}\n"
            f"acl_file {acl_file}\n"
            f"listener {port} {host}\n"
            f"cafile {ca_file}\n"
            f"certfile {cert_file}\n"
            f"keyfile {key_file}\n"
            f"tls_version tlsv1.2\n")


def write_broker_files(directory: Path, accounts: list[MqttAccount], host: str, port: int,
                       ca_file: str, cert_file: str, key_file: str) -> str:
    """Password file, ACL and credentials under `directory`; returns the listener text.

    The directory is made readable by the user Mosquitto drops to; the
    credentials file stays readable by its owner only.
    """
    directory = mosquitto_writable_dir(directory)
    password_file, acl_file = directory / "passwd", directory / "acl"
    write_password_file(password_file, accounts)
    acl_file.write_text(acl_text(accounts))
    credentials = directory / "credentials.csv"
    fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["username", "password", "may_write"])
        writer.writerows([a.username, a.password, " ".join(a.write)] for a in accounts)
    for path in (password_file, acl_file):
        os.chown(path, directory.stat().st_uid, directory.stat().st_gid)
        path.chmod(0o600)
    return listener_text(host, port, ca_file, cert_file, key_file, password_file, acl_file)


def read_concentrators(path: Path) -> list[tuple[str, str]]:
    """``concentrator,area`` lines (a header line starting with ``concentrator`` is skipped)."""
    rows = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or row[0].strip().lower() == "concentrator":
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{number}: expected 'concentrator,area', got {row!r}")
            rows.append((row[0].strip(), row[1].strip()))
    return rows
