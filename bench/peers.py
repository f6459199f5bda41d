"""The peer benchmark (``../shared/peers-bench``, outside this repository) as a section of
bench/RESULTS.md: hazard-rules' public ``evaluate`` API against zen-engine, CEL, durable_rules
and hand-written Python on the same 20 rules and records, every engine's matches checked.

It runs in its own virtual environment, which has the peer engines and this checkout
installed (``bench/README.md`` shows how to make it)::

    python bench/run.py --peers /tmp/peers/bin/python      # or alone:
    python bench/peers.py /tmp/peers/bin/python --n 100000

Nothing of the peer benchmark is copied here: this module only runs it and reads its JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS = HERE.parent.parent / "shared" / "peers-bench"
OURS = "hazard-rules"
API_VS_PEER_TARGET = 2.0  # the evaluate API at least 2× the fastest peer of the same run
API_VS_HAND_TARGET = 0.2  # and at least 0.2× hand-written Python


def run(python: str, n: int = 100_000, runs: int = 3, timeout: float = 3600) -> dict[str, Any]:
    """Run the peer benchmark with ``python`` on ``n`` records; its results with our row, the
    fastest peer's and the ratios (or ``{"skipped": why}``)."""
    script = PEERS / "run.py"
    if not script.exists():
        return {"skipped": f"the peer benchmark is not at {PEERS}"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peers.json"
        argv = [python, str(script), "--n", str(n), "--runs", str(runs), "--json", str(out)]
        try:
            p = subprocess.run(
                argv, cwd=PEERS, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return {"skipped": f"{' '.join(argv)}: {exc}"}
        if not out.exists():
            tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
            return {"skipped": f"{' '.join(argv)} exited {p.returncode}: {' / '.join(tail)}"}
        raw = json.loads(out.read_text(encoding="utf-8"))
    return summarise(raw, " ".join(["python", "../shared/peers-bench/run.py", *argv[2:-2]]))


def summarise(raw: dict[str, Any], command: str = "") -> dict[str, Any]:
    """Our row, the fastest other engine (hand-written Python and in-tree references aside)
    and the ratios the targets read."""
    rows = [r for r in raw["results"] if r.get("ok")]
    ours = [r for r in rows if r["dist"] == OURS]
    # peers: the engines of other projects (the baseline and the in-tree references have no
    # distribution)
    peers = [r for r in rows if r.get("dist") not in (OURS, None, "")]
    out: dict[str, Any] = {"n": raw["n"], "runs": raw["runs"], "rows": raw["results"]}
    out["command"] = command
    if ours:
        best = max(ours, key=lambda r: r["rate"])
        out["ours"] = best
        out["vs_hand"] = best["vs_baseline"]
        if peers:
            fastest = max(peers, key=lambda r: r["rate"])
            out["fastest_peer"] = fastest
            # each engine's ratio to the baseline timed beside it: the least noisy comparison
            out["vs_peer"] = best["vs_baseline"] / fastest["vs_baseline"]
    return out


def section(result: dict[str, Any] | None) -> list[str]:
    """The RESULTS.md section."""
    lines = ["## The public API against peer engines (../shared/peers-bench)", ""]
    if result is None:
        lines += ["Not run (`bench/run.py --peers PYTHON`, see bench/README.md).", ""]
        return lines
    if "skipped" in result:
        lines += [f"Not run: {result['skipped']}", ""]
        return lines
    lines += [
        f"`{result['command']}`: {result['n']:,} records, 20 rules, every engine's matches equal "
        "to hand-written Python's; each engine's records/s is the median of its runs, its ratio "
        "is against the hand-written baseline timed interleaved with it.",
        "",
        "| engine | version | records timed | records/s | vs hand-written |",
        "|---|---|---:|---:|---:|",
    ]
    for r in result["rows"]:
        if r.get("ok"):
            lines.append(
                f"| {r['engine']} | {r.get('version', '')} | {r['n']:,} | {r['rate']:,.0f} "
                f"| {r['vs_baseline']:.4f} |"
            )
        else:
            what = "does not run" if r.get("unsupported") else "FAILED"
            lines.append(f"| {r['engine']} | {r.get('version', '')} | — | — | {what} |")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="the peer benchmark, summarised")
    ap.add_argument("python", help="the interpreter of a venv with the peers and hazard-rules")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    result = run(args.python, args.n, args.runs)
    print("\n".join(section(result)))
    if "ours" in result:
        print(json.dumps({k: result.get(k) for k in ("vs_hand", "vs_peer")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
