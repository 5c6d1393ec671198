"""Time series an oracle samples during a run, saved as CSV and plotted as PNG (evidence artifacts)."""
import csv
import io
import math
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


class Series:
    def __init__(self, name: str, columns: list[str], t0: float | None = None):
        self.name = name
        self.columns = columns
        self.t0 = t0 if t0 is not None else time.monotonic()
        self.rows: list[list] = []

    def add(self, **values) -> None:
        self.rows.append([round(time.monotonic() - self.t0, 3)] + [values.get(c) for c in self.columns])

    def last(self, column: str):
        return self.rows[-1][1 + self.columns.index(column)] if self.rows else None

    def column(self, column: str) -> list:
        i = 1 + self.columns.index(column)
        return [r[i] for r in self.rows]

    def save(self, directory: Path, marks: dict | None = None) -> list[str]:
        """Write <name>.csv and <name>.png; marks are labelled vertical lines (e.g. the trigger instant)."""
        if not self.rows:
            return []
        directory.mkdir(parents=True, exist_ok=True)
        csv_path = directory / f"{self.name}.csv"
        with open(csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t"] + self.columns)
            w.writerows(self.rows)
        png_path = directory / f"{self.name}.png"
        fig, axes = plt.subplots(len(self.columns), 1, figsize=(7, 1.8 * len(self.columns)), sharex=True,
                                 squeeze=False)
        ts = [r[0] for r in self.rows]
        for ax, col in zip(axes[:, 0], self.columns):
            ax.plot(ts, [v if v is not None else float("nan") for v in self.column(col)], marker=".")
            ax.set_ylabel(col, fontsize=8)
            for label, t in (marks or {}).items():
                ax.axvline(t - self.t0, color="red", linestyle="--", linewidth=0.8)
                ax.text(t - self.t0, ax.get_ylim()[1], label, fontsize=7, color="red", va="top")
        axes[-1, 0].set_xlabel("seconds")
        fig.tight_layout()
        fig.savefig(png_path, dpi=80)
        plt.close(fig)
        return [str(csv_path), str(png_path)]


# What a person compares between a bad and a good run of a leak: (CSV stem, column candidates, label).
# Older runs named the per-container socket memory netns_socket_bytes.
COMPARED = (
    ("streams", ("no_expiry",), "streams with no expiry"),
    ("streams", ("curr_conns",), "CurrConns"),
    ("resources", ("socket_fds",), "worker socket fds"),
    ("resources", ("container_tcp_bytes", "netns_socket_bytes"), "container TCP memory (bytes)"),
)


def read_csv(path: Path) -> dict[str, list[float]]:
    """A saved series as {column: values}, blanks as NaN (a sample the oracle could not take)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) if r[k] not in ("", None) else math.nan for r in rows] for k in (rows[0] if rows else {})}


def _column(run_dir: Path, stem: str, candidates: tuple) -> tuple[list, list] | None:
    path = run_dir / f"{stem}.csv"
    if not path.is_file():
        return None
    data = read_csv(path)
    col = next((c for c in candidates if c in data), None)
    return (data["t"], data[col]) if col else None


def side_by_side(sides: list[tuple[str, Path]]) -> bytes | None:
    """One PNG with a column per run directory (bad | good) and a row per metric every side recorded; rows
    share their y axis so the eye compares heights, not tick labels. None when they share no metric."""
    rows = []
    for stem, candidates, label in COMPARED:
        cols = [_column(d, stem, candidates) for _, d in sides]
        if all(cols) and any(v for _, values in cols for v in values if not math.isnan(v)):  # all-zero: nothing to see
            rows.append((label, cols))
    if not rows:
        return None
    fig, axes = plt.subplots(len(rows), len(sides), figsize=(4.2 * len(sides), 1.7 * len(rows) + 0.5),
                             sharey="row", sharex=True, squeeze=False)
    for j, (title, _) in enumerate(sides):
        axes[0, j].set_title(title, fontsize=9)
        axes[-1, j].set_xlabel("seconds", fontsize=8)
    for i, (label, cols) in enumerate(rows):
        axes[i, 0].set_ylabel(label, fontsize=8)
        for j, (ts, values) in enumerate(cols):
            axes[i, j].plot(ts, values, marker=".", color="tab:red" if j == 0 else "tab:green")
            axes[i, j].tick_params(labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()
