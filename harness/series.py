"""Time series an oracle samples during a run, saved as CSV and plotted as PNG (evidence artifacts)."""
import csv
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
