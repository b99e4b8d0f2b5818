"""The end-to-end benchmark (tests/perf/bench_end_to_end.py) at a tiny size: it runs the hub,
the relay floor and raw JetStream (and, in its memory mode, one hub with its RSS sampled),
exits 0 and writes its figures. Only that: a benchmark's figures are reported, never
asserted on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
BENCH = REPO / "tests" / "perf" / "bench_end_to_end.py"
PHASE_KEYS = {
    "messages",
    "messages_per_second",
    "cpu_ms_per_message",
    "peak_rss_mb",
    "send_to_receipt_ms",
    "send_to_delivery_ms",
}


def _run_benchmark(tmp_path: Path, *arguments: str) -> dict[str, Any]:
    """Run the benchmark with `arguments`; the figures it wrote."""
    out = tmp_path / "figures.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(BENCH), *arguments, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


@pytest.mark.timeout(180)
def test_the_benchmark_runs_at_smoke_size_and_writes_its_figures(tmp_path: Path) -> None:
    figures = _run_benchmark(
        tmp_path, "--messages", "80", "--rate", "20", "--replicas", "1", "--shape", "embedded"
    )
    assert {"benchmark", "command", "settings", "targets", "machine", "shapes"} <= figures.keys()
    shape = figures["shapes"]["embedded"]
    assert shape["status"] == "ran"
    assert {"setup", "hub", "relay", "raw", "ratios", "targets"} <= shape.keys()
    for phases in (shape["hub"]["replicas_1"], shape["relay"], shape["raw"]):
        for phase in ("full_load", "fixed_rate"):
            assert phases[phase].keys() >= PHASE_KEYS
    assert {"value", "limit", "pass"} <= shape["targets"]["replicas_1"][0].keys()
    assert "hub_over_relay_messages_per_second" in shape["ratios"]["replicas_1"]


@pytest.mark.timeout(180)
def test_the_memory_run_samples_the_hub_and_writes_its_figures(tmp_path: Path) -> None:
    figures = _run_benchmark(tmp_path, "--memory-minutes", "0.25", "--rate", "20")
    assert {"rss_mb", "growth", "flat", "fixed_rate"} <= figures.keys()
    assert len(figures["rss_mb"]) >= 2 and all(rss > 0 for _, rss in figures["rss_mb"])
    assert figures["fixed_rate"].keys() >= PHASE_KEYS
