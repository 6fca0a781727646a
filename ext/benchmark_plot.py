"""A PNG of the kernel benchmark: speed-up over River per kernel, against the targets.

Why a picture: an engineer comparing kernels (or two runs) sees at a glance
which ones clear the 10x / 30x / 100x lines, single-reading and batched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

TARGET_LINES = {10.0: "10x per-meter target", 30.0: "30x HST target",
                100.0: "100x HST batch target"}


def save_plot(result: dict[str, Any], path: Path) -> Path:
    """Write grouped log-scale bars (one reading per call, batched) of ours / River."""
    names = list(result["kernels"])
    single = [result["kernels"][n]["ratio"] or 0.0 for n in names]
    batch = [result["kernels"][n]["batch_ratio"] for n in names]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(names) + 1.5))
    rows = range(len(names))
    ax.barh([r + 0.2 for r in rows], single, height=0.4, label="one reading per call")
    ax.barh([r - 0.2 for r in rows], batch, height=0.4, label="batched")
    for (value, label), style in zip(TARGET_LINES.items(), (":", "--", "-."), strict=True):
        ax.axvline(value, linestyle=style, linewidth=1.0, color="grey", label=label)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    ax.set_yticks(list(rows), names)
    ax.invert_yaxis()
    ax.set_xlabel("speed-up over the baseline (River, or our pure Python where River has none)")
    ax.set_title(f"gridwatch kernels ({result['implementation']}, "
                 f"{result['per_meter_state_bytes_total']} B state per meter)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
