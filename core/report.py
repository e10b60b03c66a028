"""Campaign reports: best designs, convergence, parameter effects (GP) and voltage-loss breakdown."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from electroforge.campaign import best_evaluation
from electroforge.model import Evaluation
from electroforge.store import CampaignStore


def summary(store: CampaignStore) -> dict[str, Any]:
    """The facts a user (or ``report --json``) asks first."""
    evs = store.evaluations
    best = best_evaluation(evs)
    out: dict[str, Any] = {
        "campaign": str(store.path),
        "objective_name": store.attributes.get("objective_name", "objective"),
        "n_evaluations": len(evs),
        "n_failed": sum(not e.ok for e in evs),
        "best": None,
    }
    if best is not None:
        out["best"] = {
            "index": best.index,
            "params": dict(best.params),
            "objective": best.objective,
            "metrics": best.metrics.to_dict() if best.metrics else None,
            "performance": {k: p.to_dict() for k, p in best.performances.items()},
        }
        from electroforge.cells import mass_breakdown_kg

        first = next(iter(best.performances.values()), None)
        out["best"]["cell_mass_breakdown_kg"] = mass_breakdown_kg(first.extras) if first else {}
    failures: dict[str, int] = {}
    for e in evs:
        if not e.ok:
            failures[e.error] = failures.get(e.error, 0) + 1
    out["failure_reasons"] = failures
    return out


def best_so_far(evaluations: list[Evaluation]) -> np.ndarray:
    """Running maximum of the objective in evaluation-index order (NaN until the first success)."""
    evs = sorted(evaluations, key=lambda e: e.index)
    out, best = [], -math.inf
    for e in evs:
        if e.ok and math.isfinite(e.objective):
            best = max(best, e.objective)
        out.append(best if math.isfinite(best) else np.nan)
    return np.array(out)


def fit_parameter_effects(store: CampaignStore, n_grid: int = 30) -> dict[str, Any] | None:
    """Fit a GP (Matern-5/2, ARD) to the successful evaluations in the unit cube.

    Returns the lengthscales (unit-cube units: short = the objective changes fast along it),
    a relative importance (1/lengthscale, normalised) and each parameter's partial dependence
    (the GP mean averaged over the observed values of the other parameters).
    """
    ok = [e for e in store.evaluations if e.ok and math.isfinite(e.objective)]
    space = store.space
    if len(ok) < max(4, space.dim + 2):
        return None
    import warnings

    from electroforge.tfquiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()  # before gpflow, so that its import is quiet too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import gpflow

    x = space.to_unit([e.params for e in ok])
    y = np.array([[e.objective] for e in ok])
    mu, sd = y.mean(), y.std() or 1.0
    ys = (y - mu) / sd
    kernel = gpflow.kernels.Matern52(lengthscales=np.full(space.dim, 0.3))
    model = gpflow.models.GPR((x, ys), kernel=kernel, noise_variance=1e-3)
    gpflow.set_trainable(model.likelihood.variance, True)
    gpflow.optimizers.Scipy().minimize(model.training_loss, model.trainable_variables, options={"maxiter": 200})
    ls = np.atleast_1d(model.kernel.lengthscales.numpy()).astype(float)
    inv = 1.0 / ls
    importance = inv / inv.sum()
    grid = np.linspace(0, 1, n_grid)
    pd: dict[str, Any] = {}
    for d, p in enumerate(space.parameters):
        curves = []
        for g in grid:
            xx = x.copy()
            xx[:, d] = g
            m, _ = model.predict_f(tf.constant(xx))
            curves.append(float(np.mean(m.numpy())) * sd + mu)
        pd[p.name] = {"values": (p.lower + grid * (p.upper - p.lower)).tolist(), "objective": curves}
    return {
        "lengthscales_unit_cube": dict(zip(space.names, ls.tolist())),
        "importance": dict(zip(space.names, importance.tolist())),
        "partial_dependence": pd,
        "observed": {"x": [dict(e.params) for e in ok], "y": y.ravel().tolist()},
    }


def voltage_losses(best: Evaluation, protocol: str) -> dict[str, float]:
    """The overpotential-like extras (``eta_*`` in volts) the simulator reported for the best design."""
    perf = best.performances.get(protocol)
    if perf is None:
        return {}
    out = {k: float(v) for k, v in perf.extras.items() if k.startswith("eta_") and math.isfinite(v)}
    parts = ("eta_electrolyte_concentration_end_V", "eta_electrolyte_ohmic_end_V")
    if "eta_electrolyte_end_V" not in out and all(p in out for p in parts):
        out["eta_electrolyte_end_V"] = sum(out[p] for p in parts)
    return out


# ------------------------------------------------------------------ plots
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_convergence(stores: list[CampaignStore], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for st in stores:
        curve = best_so_far(st.evaluations)
        label = f"{st.attributes.get('optimizer', '?')} ({st.path.name})"
        ax.step(np.arange(1, len(curve) + 1), curve, where="post", label=label, lw=2)
        obj = np.array([e.objective if e.ok else np.nan for e in sorted(st.evaluations, key=lambda e: e.index)])
        ax.plot(np.arange(1, len(obj) + 1), obj, "o", ms=3, alpha=0.4, color=ax.lines[-1].get_color())
    ax.set_xlabel("evaluation")
    ax.set_ylabel(stores[0].attributes.get("objective_name", "objective"))
    ax.set_title("Convergence: best so far (line) and each evaluation (dots)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_parameter_effects(effects: dict[str, Any], store: CampaignStore, path: Path) -> Path:
    plt = _plt()
    names = list(effects["partial_dependence"])
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.6 * (len(names) + 1), 3.6))
    obs = effects["observed"]
    for ax, name in zip(axes, names):
        pd = effects["partial_dependence"][name]
        ax.plot(pd["values"], pd["objective"], lw=2, label="GP partial dependence")
        ax.plot([p[name] for p in obs["x"]], obs["y"], "k.", alpha=0.5, label="evaluations")
        unit = store.space[name].unit
        ax.set_xlabel(f"{name}" + (f" ({unit})" if unit else ""))
        ax.set_title(f"lengthscale {effects['lengthscales_unit_cube'][name]:.2f}")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(store.attributes.get("objective_name", "objective"))
    axes[0].legend(fontsize=8)
    imp = effects["importance"]
    axes[-1].barh(list(imp), list(imp.values()), color="#4c72b0")
    axes[-1].set_xlabel("importance (1/lengthscale)")
    axes[-1].set_title("Which parameter matters most")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


#: The four mechanisms of the voltage-loss breakdown, by the simulator's extras names.
MECHANISMS = ("electrolyte", "solid_conduction", "reaction", "solid_diffusion")


def plot_voltage_losses(losses: dict[str, float], title: str, path: Path) -> Path:
    """Grouped bars: each mechanism's loss averaged over the discharge and at its end (mV).

    Uses ``eta_<mechanism>_V`` (mean) and ``eta_<mechanism>_end_V`` where the simulator reports
    them; any other ``eta_*`` values are shown as single bars.
    """
    plt = _plt()
    mech = [m for m in MECHANISMS if f"eta_{m}_V" in losses or f"eta_{m}_end_V" in losses]
    others = [k for k in losses if not any(k in (f"eta_{m}_V", f"eta_{m}_end_V") for m in MECHANISMS)
              and not k.startswith("eta_total") and not any(k.startswith(f"eta_{m}_") for m in MECHANISMS)]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    y = np.arange(len(mech))
    mean = [abs(losses.get(f"eta_{m}_V", np.nan)) * 1000 for m in mech]
    end = [abs(losses.get(f"eta_{m}_end_V", np.nan)) * 1000 for m in mech]
    ax.barh(y + 0.2, mean, height=0.4, color="#4c72b0", label="mean over the discharge")
    ax.barh(y - 0.2, end, height=0.4, color="#c44e52", label="at the end of discharge")
    labels = [m.replace("_", " ") for m in mech]
    if others:
        y_o = np.arange(len(mech), len(mech) + len(others))
        ax.barh(y_o, [abs(losses[k]) * 1000 for k in others], height=0.4, color="#8c8c8c")
        labels += [k.removeprefix("eta_").removesuffix("_V").replace("_", " ") for k in others]
        y = np.concatenate([y, y_o])
    ax.set_yticks(y, labels)
    ax.set_xlabel("voltage loss (mV)")
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------ the report
def write_report(store: CampaignStore, out_dir: Path, compare: list[CampaignStore] | None = None,
                 with_gp: bool = True) -> dict[str, Any]:
    """Write PNGs and ``report.md`` into ``out_dir``; return the summary with the file names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    info = summary(store)
    files = {"convergence": plot_convergence([store, *(compare or [])], out_dir / "convergence.png")}
    effects = fit_parameter_effects(store) if with_gp else None
    if effects:
        files["parameter_effects"] = plot_parameter_effects(effects, store, out_dir / "parameter_effects.png")
        info["parameter_effects"] = {k: effects[k] for k in ("lengthscales_unit_cube", "importance")}
    best = best_evaluation(store.evaluations)
    obj_protocol = store.objective_protocol
    losses = voltage_losses(best, obj_protocol) if best else {}
    if losses:
        files["voltage_losses"] = plot_voltage_losses(
            losses, f"Best design: where voltage is lost at {obj_protocol}", out_dir / "voltage_losses.png")
        info["voltage_losses_V"] = losses
    info["files"] = {k: str(v) for k, v in files.items()}
    (out_dir / "report.md").write_text(_markdown(store, info, effects, files, compare or []))
    info["files"]["report"] = str(out_dir / "report.md")
    return info


def _cell_lines(best: Evaluation) -> list[str]:
    """The best design's cell: capacity, active mass, volume and the mass by part (if reported)."""
    from electroforge.cells import mass_breakdown_kg

    perf = next(iter(best.performances.values()), None)
    if perf is None:
        return []
    parts = mass_breakdown_kg(perf.extras)
    if not parts:
        return []
    x = perf.extras
    total = sum(parts.values())
    lines = ["### The cell of the best design", ""]
    facts = [("nominal capacity (1C)", x.get("nominal_capacity_Ah"), 1.0, "Ah"),
             ("cathode coating per side", x.get("cathode_thickness_m"), 1e6, "µm"),
             ("mass loading per side", x.get("mass_loading_kg_per_m2"), 100.0, "mg/cm²"),
             ("electrode area", x.get("electrode_area_m2"), 1.0, "m²"),
             ("active material", x.get("active_mass_kg"), 1e3, "g"),
             ("cell volume", x.get("cell_volume_L"), 1.0, "L"),
             ("cell mass", total, 1e3, "g")]
    lines += [f"- {label}: {v * scale:.4g} {unit}" for label, v, scale, unit in facts if v is not None]
    lines += ["", "| part | g | % of the cell |", "|---|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {v * 1e3:.4g} | {100 * v / total:.1f} |" for k, v in parts.items()]
    return [*lines, ""]


def _markdown(store, info, effects, files, compare) -> str:
    lines = [f"# Campaign report: {store.attributes.get('campaign_name', store.path.stem)}", ""]
    lines += [f"- file: `{store.path}`", f"- objective: **{info['objective_name']}** (maximised)",
              f"- evaluations: {info['n_evaluations']} ({info['n_failed']} failed)",
              f"- components: generator `{store.attributes.get('generator')}`, characterizer "
              f"`{store.attributes.get('characterizer')}`, cell simulator `{store.attributes.get('cell_simulator')}`, "
              f"optimizer `{store.attributes.get('optimizer')}`, cell `{store.attributes.get('cell_format')}`",
              f"- electroforge {store.attributes.get('electroforge_version')}", ""]
    ok = sorted((e for e in store.evaluations if e.ok), key=lambda e: -e.objective)[:5]
    if ok:
        names = list(store.space.names)
        lines += ["## Best designs", "", "| rank | # | " + " | ".join(names) + " | objective | τ | ε | σ_eff (S/m) |",
                  "|" + "---|" * (len(names) + 6)]
        for r, e in enumerate(ok, 1):
            m = e.metrics
            lines.append(f"| {r} | {e.index} | " + " | ".join(f"{e.params[n]:.4g}" for n in names)
                         + f" | {e.objective:.4g} | {m.tortuosity_factor:.3g} | {m.porosity:.3f} | "
                         f"{m.effective_conductivity_S_per_m:.3g} |")
        lines.append("")
        best = ok[0]
        lines += ["### Performance of the best design", "", "| protocol | " + " | ".join(
            ["capacity (Ah)", "energy (Wh)", "Wh/L", "Wh/kg", "mAh/g AM", "duration (h)"]) + " |", "|---" * 7 + "|"]
        for lab, p in best.performances.items():
            lines.append(f"| {lab} | {p.capacity_Ah:.4g} | {p.energy_Wh:.4g} | {p.energy_density_Wh_per_L:.4g} | "
                         f"{p.specific_energy_Wh_per_kg:.4g} | {p.capacity_per_g_active_mAh:.4g} | "
                         f"{p.duration_s / 3600:.3g} |")
        lines.append("")
        lines += _cell_lines(best)
    lines += ["## Convergence", "", f"![convergence]({Path(files['convergence']).name})", ""]
    if compare:
        lines.append("Compared with: " + ", ".join(f"`{c.path}` ({c.attributes.get('optimizer')})" for c in compare))
        lines.append("")
    if effects:
        imp = effects["importance"]
        top = max(imp, key=imp.get)
        lines += ["## Parameter effects (GP)", "",
                  f"A Matern-5/2 GP with one lengthscale per parameter, fitted to the successful evaluations "
                  f"in the unit cube. The shortest lengthscale marks the parameter the objective is most "
                  f"sensitive to: **{top}** ({imp[top]:.0%} of the inverse-lengthscale total).", "",
                  f"![parameter effects]({Path(files['parameter_effects']).name})", ""]
    if "voltage_losses" in files:
        lines += ["## Where voltage is lost (best design)", "",
                  "Overpotentials reported by the cell simulator for the best design at the objective's protocol: "
                  "the largest bar is the mechanism that limits this design.", "",
                  "| loss | mV |", "|---|---|"]
        for k, v in info["voltage_losses_V"].items():
            lines.append(f"| {k} | {abs(v) * 1000:.1f} |")
        lines += ["", f"![voltage losses]({Path(files['voltage_losses']).name})", ""]
    if info["failure_reasons"]:
        lines += ["## Failed evaluations", "", "| reason | count |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in info["failure_reasons"].items()]
        lines.append("")
    return "\n".join(lines)
