"""The comparison table: result records grouped into rows x columns, each cell mean ± std over runs (seeds).

Records of flagged runs (interrupted, diverged, collapsed, duplicates) are counted per cell but never averaged.
Grouping keys are record fields (method, encoder, dataset, split, stream, protocol, epochs, seed, ...) or dotted
config keys (e.g. `method.schedule.lr`), looked up in the run's saved config.yaml.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from skelcl.report.provenance import config_hash, experiment_keys, flatten, is_under
from skelcl.report.runs import Run, record_flags

#: the config sub-trees a record field stands for: sweeping `method` changes all of `method.*`
FIELD_ROOTS = {"method": ("method",), "encoder": ("encoder",), "dataset": ("dataset",), "split": ("dataset.split",),
               "stream": ("stream",), "protocol": ("protocol",), "seed": ("seed",), "epochs": ("epochs",)}


@dataclass
class Entry:
    """One result record with the run(s) it came from and why it is excluded (empty: averaged in)."""

    record: dict
    runs: list[Run]
    flags: list[str] = field(default_factory=list)

    def value(self, key: str):
        if key in self.record:
            return self.record[key]
        return flatten(self.runs[0].config).get(key) if self.runs else None


@dataclass
class Cell:
    values: list[float] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # one flag per excluded record

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over runs (None for fewer than two)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else None

    def text(self) -> str:
        if not self.values:
            body = "-"
        elif self.std is None:
            body = f"{self.mean:.2f} (n=1)"
        else:
            body = f"{self.mean:.2f} ± {self.std:.2f} (n={self.n})"
        return body + (f" [{len(self.excluded)} flagged]" if self.excluded else "")


@dataclass
class Comparison:
    rows: list[str]
    cols: list[str]
    metric: str
    row_keys: list[tuple]
    col_keys: list[tuple]
    cells: dict[tuple[tuple, tuple], Cell]


def mark_duplicates(runs: list[Run]) -> None:
    """Runs with the same experiment config (seed included) and the same pretraining epochs (two evaluations of
    different checkpoints of one run are not duplicates) as an earlier one get a `duplicate of` flag."""
    first: dict[tuple, Run] = {}
    for run in sorted(runs, key=lambda r: (_started(r), str(r.path))):
        if not run.records or "interrupted" in run.flags:
            continue
        epochs = sorted({str(r.get("epochs")) for r in run.records})
        key = (config_hash(run.config) if run.config else repr(sorted(_identity(run.records[0]).items())), *epochs)
        if key in first:
            run.flags.append(f"duplicate of {first[key].path.name}")
        else:
            first[key] = run


def _started(run: Run) -> str:
    prov = run.records[0].get("provenance") if run.records else None
    return (prov or {}).get("started_at") or ""


def _identity(record: dict) -> dict:
    return {k: v for k, v in record.items() if k in FIELD_ROOTS}


def entries_of(runs: list[Run]) -> list[Entry]:
    return [Entry(rec, [run], [*run.flags, *record_flags(rec)]) for run in runs for rec in run.records]


def build_comparison(entries: list[Entry], rows: list[str], cols: list[str], metric: str = "top1") -> Comparison:
    row_keys: dict[tuple, None] = {}
    col_keys: dict[tuple, None] = {}
    cells: dict[tuple[tuple, tuple], Cell] = {}
    for e in entries:
        r = tuple(e.value(k) for k in rows)
        c = tuple(e.value(k) for k in cols)
        row_keys[r] = None
        col_keys[c] = None
        cell = cells.setdefault((r, c), Cell())
        value = metric_value(e.record, metric)
        if e.flags:
            cell.excluded.append(e.flags[0])
        elif value is not None:  # a record without a floor has no margin
            cell.values.append(value)
    return Comparison(rows, cols, metric, _sorted(row_keys), list(col_keys), cells)  # columns: first-seen order


def metric_value(record: dict, metric: str) -> float | None:
    """top1 / top5 / floor_top1 / mean_class_top1 / floor_mean_class_top1 as recorded; `margin` = top1 -
    floor_top1 (None where the run measured no floor)."""
    if metric == "margin":
        floor = record.get("floor_top1")
        return None if floor is None else float(record["top1"]) - float(floor)
    value = record.get(metric)
    return None if value is None else float(value)


def _sorted(keys: dict[tuple, None]) -> list[tuple]:
    return sorted(keys, key=lambda t: tuple(str(v) for v in t))


def differing_keys(entries: list[Entry], swept: list[str]) -> dict[str, list[str]]:
    """Config keys and provenance fields that vary across the averaged runs but are not grouping keys: the
    table then compares (or averages) more than it says. A key missing from some runs counts as differing."""
    roots = tuple(root for k in [*swept, "seed"] for root in FIELD_ROOTS.get(k, (k,)))
    runs = list({id(run): run for e in entries if not e.flags for run in e.runs}.values())
    flats = []
    for run in runs:
        flat = experiment_keys(run.config)
        prov = (run.records[0].get("provenance") or {}) if run.records else {}
        for k in ("code", "dataset_fingerprint"):
            if k in prov:
                flat[f"provenance.{k}"] = prov[k]
        if is_under("dataset", roots):
            flat.pop("provenance.dataset_fingerprint", None)
        flats.append({k: v for k, v in flat.items() if not is_under(k, roots)})
    keys = sorted({k for flat in flats for k in flat})
    out = {}
    for k in keys:
        values = {str(flat[k]) if k in flat else "<absent>" for flat in flats}
        if len(values) > 1:
            out[k] = sorted(values)
    return out
