"""`electroforge report`: summary facts, plots, and a GP that finds the parameter that matters."""
import json

import numpy as np
import pytest

from electroforge import DesignSpace, Evaluation, Metrics, Performance
from electroforge.report import best_so_far, summary, write_report
from electroforge.store import CampaignStore


def _store(tmp_path, n=14, seed=0):
    rng = np.random.default_rng(seed)
    space = DesignSpace.from_bounds({"porosity": (0.25, 0.5), "am_mass_fraction": (0.85, 0.97)})
    store = CampaignStore.create(tmp_path / "r.nc", space, ["10W"], objective_name="energy_Wh at 10W",
                                 extra_attributes={"optimizer": "sobol", "campaign_name": "synthetic"})
    for i in range(n):
        por, amf = rng.uniform(0.25, 0.5), rng.uniform(0.85, 0.97)
        obj = 100.0 - 2000.0 * (por - 0.33) ** 2  # depends on porosity only
        m = Metrics({"pore": por, "active": 0.9 - por, "binder": 0.1}, 5e5, 0.2, 2.0, 0.1)
        perf = Performance(5, obj, 10, 3600, 600, obj, 180,
                           extras={"eta_electrolyte_V": -0.05, "eta_reaction_V": -0.02, "eta_solid_conduction_V": -0.001})
        ok = i != 3
        store.append(Evaluation(i, {"porosity": por, "am_mass_fraction": amf}, obj if ok else np.nan,
                                "ok" if ok else "failed", metrics=m if ok else None,
                                performances={"10W": perf} if ok else {},
                                error="" if ok else "characterizer 'taufactor': pore network does not percolate"))
    return store


def test_summary_counts_and_best(tmp_path):
    store = _store(tmp_path)
    info = summary(store)
    assert info["n_evaluations"] == 14 and info["n_failed"] == 1
    best = max((e for e in store.evaluations if e.ok), key=lambda e: e.objective)
    assert info["best"]["objective"] == best.objective and info["best"]["params"] == dict(best.params)
    assert info["failure_reasons"] == {"characterizer 'taufactor': pore network does not percolate": 1}


def test_best_so_far_is_monotone_and_skips_failures(tmp_path):
    curve = best_so_far(_store(tmp_path).evaluations)
    assert np.all(np.diff(curve) >= 0)


@pytest.mark.slow
def test_report_writes_plots_and_the_gp_ranks_porosity_first(tmp_path, cli):
    store = _store(tmp_path)
    info = write_report(store, tmp_path / "rep")
    for key in ("convergence", "parameter_effects", "voltage_losses", "report"):
        assert (tmp_path / "rep" / info["files"][key].split("/")[-1]).is_file()
    imp = info["parameter_effects"]["importance"]
    assert imp["porosity"] > imp["am_mass_fraction"]
    assert info["voltage_losses_V"]["eta_electrolyte_V"] == -0.05
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "porosity" in md and "Where voltage is lost" in md
    out = cli("report", str(store.path), "--json", "--no-gp", "-o", str(tmp_path / "rep2"))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"n_evaluations", "n_failed", "best", "objective_name"} <= set(data)
    assert set(data["best"]) >= {"params", "objective", "metrics", "performance"}


def test_report_on_a_missing_file_is_one_line(cli, tmp_path):
    out = cli("report", str(tmp_path / "nope.nc"))
    assert out.returncode == 2 and "nope.nc: no such campaign file" in out.stderr and "Traceback" not in out.stderr
