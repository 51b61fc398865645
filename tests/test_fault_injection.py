"""Kills lose nothing: SIGKILL real `csvnlp tag` runs mid-tagging, mid-assembly and after the
final rename, damage parts, resume, and compare byte for byte with an uninterrupted run.

The quick version of benchmarks/fault_injection.py (which kills each engine 20+ times)."""

from __future__ import annotations

import pytest

from faults import inject


@pytest.mark.slow
def test_fault_injection_local_kills_at_every_phase_lose_nothing(tmp_path):
    report = inject(tmp_path, "local", kills=4, repeat=6, batch_size=20, kills_per_trial=2, damage_every=1,
                    fixed_points=["parts:2", "assembly", "parts:1", "output"])
    assert report.kills_injected >= 4 and report.kills_survived == report.kills_injected, report
    assert report.incomplete_outputs_seen == 0, report
    assert report.parts_damaged and report.parts_redone == report.parts_damaged, report


@pytest.mark.slow
def test_fault_injection_dask_kills_lose_nothing(tmp_path):
    pytest.importorskip("distributed")
    report = inject(tmp_path, "dask", kills=1, repeat=6, batch_size=20, kills_per_trial=1, damage_every=1,
                    fixed_points=["parts:2"], reference_engine="local")
    assert report.kills_injected >= 1 and report.kills_survived == report.kills_injected, report
    assert report.incomplete_outputs_seen == 0, report
    assert report.parts_damaged and report.parts_redone == report.parts_damaged, report
