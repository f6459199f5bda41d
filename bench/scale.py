"""Scale-out rows of the benchmark: one process, ``--jobs 2`` and ``--dask local:2`` on one
export (bench/run.py calls :func:`scale_out` on its largest size and :func:`section` writes
the table; ``python bench/scale.py DIR`` runs it alone and prints the rows as JSON).

Each run is ``hazard-rules check DIR --pack baoshan-2024 --pack gm-2023 --as-of 2026-01-15
--format jsonl -o FILE`` in a subprocess. While it runs, the resident memory of its whole
process tree (the check process — parent or Dask client, with the scheduler of a local
cluster — and its workers) is sampled every 50 ms from /proc: the peak of each process and
the peak of the sum (RSS, and PSS, which counts a page shared by forked processes once).
CPU time is user + sys of the process tree (``wait4``: the check process and every
descendant it waited for). The configurations run interleaved, ``runs`` times each; the
figures are medians. The outputs of every run must be byte-identical to one process's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

AS_OF = "2026-01-15"
PACKS = ("baoshan-2024", "gm-2023")
CONFIGS = {"one process": (), "--jobs 2": ("--jobs", "2"), "--dask local:2": ("--dask", "local:2")}
SPEEDUP_TARGET = 1.6
MEMORY_TARGET = 1.5


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes, 0 when the process is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float:
    """User + sys seconds of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "parent"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    return "nanny" if "nanny" in cmd.lower() else "worker"


def tree_run(argv: list[str]) -> dict[str, Any]:
    """Run ``argv``; wall time, CPU time of its tree, memory peaks (see the module docstring)."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read() if p.stderr else b""))
    reader.start()
    peaks: dict[int, int] = {}
    cpus: dict[int, float] = {}
    roles: dict[int, str] = {}
    sum_rss = sum_pss = 0
    status = None
    while status is None:
        rss_now = pss_now = 0
        for q in _tree(p.pid):
            rss, pss = _memory(q)
            rss_now += rss
            pss_now += pss
            peaks[q] = max(peaks.get(q, 0), rss)
            cpus[q] = max(cpus.get(q, 0.0), _cpu(q))
            if q not in roles:
                roles[q] = _role(q, p.pid)
        sum_rss, sum_pss = max(sum_rss, rss_now), max(sum_pss, pss_now)
        time.sleep(0.05)
        pid, code, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            status = (code, usage)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status[0])
    reader.join()
    if p.stderr is not None:
        p.stderr.close()
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{argv} exited {p.returncode}: {b''.join(err).decode()[-2000:]}")
    usage = status[1]
    workers = sorted((v for q, v in peaks.items() if roles[q] == "worker"), reverse=True)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "parent": peaks.get(p.pid, 0),
        # the parent's own CPU (last seen, up to 50 ms before it ended): the serial part
        "parent_cpu": cpus.get(p.pid, 0.0),
        "workers": workers,
        "sum_rss": sum_rss,
        "sum_pss": sum_pss,
        "load": os.getloadavg()[0],
    }


def scale_out(folder: Path, tmp: Path, runs: int = 2) -> dict[str, Any]:
    """Every configuration ``runs`` times, interleaved; medians, and whether the outputs
    were byte-identical to one process's."""
    base = [sys.executable, "-m", "hazard_rules", "check", str(folder)]
    for pack in PACKS:
        base += ["--pack", pack]
    base += ["--as-of", AS_OF, "--format", "jsonl", "-q"]
    got: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
    same = True
    reference = tmp / "scale-one.jsonl"
    for i in range(runs):
        for name, extra in CONFIGS.items():
            out = tmp / ("scale-one.jsonl" if name == "one process" else "scale-other.jsonl")
            r = tree_run([*base, "-o", str(out), *extra])
            print(
                f"  {name} run {i + 1}: {r['wall']:.1f}s wall, {r['cpu']:.1f}s CPU, "
                f"{r['sum_rss'] / 2**20:.0f} MiB (load {r['load']:.1f})",
                flush=True,
            )
            got[name].append(r)
            if name != "one process":
                same = same and out.read_bytes() == reference.read_bytes()
    rows = {}
    for name, rs in got.items():
        rows[name] = {
            key: statistics.median(r[key] for r in rs)
            for key in ("wall", "cpu", "parent_cpu", "parent", "sum_rss", "sum_pss", "load")
        }
        rows[name]["workers"] = max((r["workers"] for r in rs), key=lambda w: sum(w), default=[])
    return {"rows": rows, "same": same, "runs": runs, "folder": str(folder)}


def section(scale: dict[str, Any] | None, size: int | None) -> list[str]:
    """The markdown of the scale-out section (and its targets)."""
    out = ["## Scale-out: `--jobs 2` and `--dask local:2` (issue 18 item 6, issue 15)", ""]
    if scale is None:
        return [*out, "Not measured in this run.", ""]
    rows = scale["rows"]
    one = rows["one process"]
    out += [
        f"On the {size:,}-record export, each configuration {scale['runs']}× interleaved, "
        "medians; every output byte-identical to one process's: "
        f"{'yes' if scale['same'] else '**NO**'}. Memory: the peak RSS of the check process "
        "(the parent, or the Dask client with the local cluster's scheduler), of each worker "
        "process, and the peak of their sum (RSS; PSS counts a page that forked processes share "
        "once). Load: the 1-minute load average when the run ended — other jobs share this "
        "machine's 2 cores, and wall times move with them; CPU time does not.",
        "",
        "| configuration | wall (s) | speed-up | CPU (s) | CPU vs one | parent/client CPU (s) "
        "| parent/client peak (MiB) | worker peaks (MiB) | peak of the sum, RSS / PSS (MiB) "
        "| vs one process | load |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name, r in rows.items():
        workers = ", ".join(f"{w / 2**20:.0f}" for w in r["workers"]) or "—"
        out.append(
            f"| {name} | {r['wall']:.1f} | {one['wall'] / r['wall']:.2f}× | {r['cpu']:.1f} "
            f"| {r['cpu'] / one['cpu']:.2f}× | {r['parent_cpu']:.1f} "
            f"| {r['parent'] / 2**20:.0f} | {workers} "
            f"| {r['sum_rss'] / 2**20:.0f} / {r['sum_pss'] / 2**20:.0f} "
            f"| {r['sum_rss'] / one['sum_rss']:.2f}× | {r['load']:.1f} |"
        )
    jobs = rows["--jobs 2"]
    speed = one["wall"] / jobs["wall"]
    mem = jobs["sum_rss"] / one["sum_rss"]
    out += [
        "",
        "| target | figure | status |",
        "|---|---|---|",
        f"| `--jobs 2` wall-clock speed-up ≥ {SPEEDUP_TARGET}× at 1M | {speed:.2f}× "
        f"| {'met' if speed >= SPEEDUP_TARGET else '**NOT met**'} |",
        f"| `--jobs 2` parent + workers memory ≤ {MEMORY_TARGET}× the single-process peak "
        f"| {mem:.2f}× | {'met' if mem <= MEMORY_TARGET else '**NOT met**'} |",
        "",
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="scale-out rows of the benchmark")
    ap.add_argument("export", type=Path)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--tmp", type=Path, default=Path("/tmp"))
    args = ap.parse_args(argv)
    got = scale_out(args.export, args.tmp, args.runs)
    print(json.dumps(got, indent=1))
    marker = args.export / ".counts.json"
    size = sum(json.loads(marker.read_text()).values()) if marker.exists() else 0
    print("\n".join(section(got, size)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
