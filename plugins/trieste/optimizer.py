"""The ``trieste`` optimizer: Bayesian optimisation with a GP and expected improvement.

Model: a gpflow GPR set up like trieste's ``build_gpr`` (Matern-5/2 kernel by default, one ARD lengthscale
per parameter, constant mean, log-normal hyperparameter priors; see :mod:`._gp`) on inputs normalised to the unit cube
and objectives standardised to zero mean and unit variance over the successes. Failed
evaluations are imputed (see :mod:`.targets`). Acquisition: expected improvement through
trieste's ask-tell machinery (``EfficientGlobalOptimization``); batches of ``n > 1`` points use
local penalisation (``batch="lp"``), Monte-Carlo batch EI (``"qei"``) or Thompson sampling
(``"ts"``). Points closer than ``dedup_tolerance`` (unit cube) to an observed or already chosen
point are replaced by the most distant of 256 random candidates. trieste minimises: the adapter
negates. The first ``n_initial`` points are the scrambled Sobol sequence of the seed, exactly
as the ``sobol`` optimizer proposes them.

Determinism and resume: ``ask(n)`` is a pure function of (seed, options, ordered observations, n).
Each model-based ask refits the process's one GP (:mod:`._gp`, traced once, kept across asks)
from data-derived starting hyperparameters with random restarts drawn from a numpy generator
seeded by (seed, number of observations), and the acquisition optimiser's random starts come
from a box reseeded the same way; nothing carries over from earlier asks. So a fresh optimizer
told all stored observations at once asks what an uninterrupted run asks. tensorflow/gpflow/trieste are imported on the first model-based
ask only (:mod:`._tf`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import ValidationError
from electroforge.history import History, check_n, check_seed, derived_seed, sobol_unit_points

from . import _tf
from ._gp import KERNELS
from .targets import standardise_with_imputation

ACQUISITIONS = ("ei",)
BATCH_METHODS = ("lp", "qei", "ts")


class TriesteOptimizer:
    """Bayesian optimisation (maximisation) with trieste; see the module docstring.

    Options (all keyword, with defaults):

    - ``n_initial``: size of the Sobol initial design; ``None`` -> max(2*dim + 1, 9). (Until 0.2 it
      was max(2*dim + 1, 5): in 2-D five points left whole regions unseen, and at 200 W in case
      study 2 expected improvement stayed in a local optimum for 40 evaluations; docs/optimizers.md.)
    - ``acquisition``: ``"ei"`` (expected improvement).
    - ``batch``: how ``ask(n > 1)`` fills a batch: ``"lp"`` local penalisation (default),
      ``"qei"`` Monte-Carlo batch EI, ``"ts"`` Thompson sampling.
    - ``noise_variance``: GP likelihood variance in standardised objective units (fixed unless
      ``learn_noise``); per-observation noise passed to ``tell(noise=...)`` is added to it row by
      row (heteroscedastic GP: a noisier observation constrains the model less), converted to
      standardised units.
    - ``learn_noise``: fit the likelihood variance (starting at ``noise_variance``).
    - ``impute_margin``: failures get the worst success minus this times the successes' range.
    - ``num_kernel_samples``: random hyperparameter draws tried before each fit (trieste).
    - ``num_initial_samples`` / ``num_optimization_runs``: acquisition optimiser effort
      (random samples, then L-BFGS-B restarts from the best of them); ``None`` -> 1000*dim / 5.
    - ``dedup_tolerance``: unit-cube distance under which a proposal counts as a duplicate.
    - ``kernel``: ``"matern52"`` (default, as trieste's ``build_gpr``) or ``"matern32"`` (rougher
      sample paths; measured on the race's case study 3, docs/optimizers.md).
    """

    name = "trieste"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        n_initial: int | None = None,
        acquisition: str = "ei",
        batch: str = "lp",
        noise_variance: float = 1e-5,
        learn_noise: bool = False,
        impute_margin: float = 0.1,
        num_kernel_samples: int = 10,
        num_initial_samples: int | None = None,
        num_optimization_runs: int | None = None,
        dedup_tolerance: float = 1e-3,
        kernel: str = "matern52",
    ):
        self.seed = check_seed(seed, self.name)
        self.history = History(space, self.name)
        self.space = space
        dim = space.dim
        self.n_initial = max(2 * dim + 1, 9) if n_initial is None else _positive_int("n_initial", n_initial, minimum=1, who=self.name)
        if acquisition not in ACQUISITIONS:
            raise ValidationError(f"optimizer {self.name!r}: acquisition={acquisition!r} is not one of {ACQUISITIONS}")
        if batch not in BATCH_METHODS:
            raise ValidationError(f"optimizer {self.name!r}: batch={batch!r} is not one of {BATCH_METHODS}")
        if kernel not in KERNELS:
            raise ValidationError(f"optimizer {self.name!r}: kernel={kernel!r} is not one of {tuple(KERNELS)}")
        self.acquisition = acquisition
        self.batch = batch
        self.kernel = kernel
        self.noise_variance = _positive_float("noise_variance", noise_variance, who=self.name)
        if self.noise_variance <= 1e-6:
            raise ValidationError(f"optimizer {self.name!r}: noise_variance={noise_variance!r} must be > 1e-6 (gpflow's lower bound)")
        self.learn_noise = bool(learn_noise)
        self.impute_margin = _positive_float("impute_margin", impute_margin, allow_zero=True, who=self.name)
        self.num_kernel_samples = _positive_int("num_kernel_samples", num_kernel_samples, minimum=0, who=self.name)
        self.num_initial_samples = (
            1000 * dim if num_initial_samples is None else _positive_int("num_initial_samples", num_initial_samples, minimum=1, who=self.name)
        )
        self.num_optimization_runs = (
            5 if num_optimization_runs is None else _positive_int("num_optimization_runs", num_optimization_runs, minimum=1, who=self.name)
        )
        self.dedup_tolerance = _positive_float("dedup_tolerance", dedup_tolerance, allow_zero=True, who=self.name)
        #: trieste's wrapper of the GP fitted by the latest model-based ask, for inspection; the
        #: GP is shared by every trieste optimizer of this dimension in the process, so it holds
        #: this optimizer's fit only until another one asks
        self.last_model = None

    # ------------------------------------------------------------------ protocol
    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool] | None = None,
        noise: Sequence[float] | None = None,
    ) -> None:
        """Record observations (maximised; failed ones may be NaN and are imputed, never dropped).

        ``noise``: optional per-observation noise variances in objective units squared.
        """
        self.history.add(params, objectives, failed, noise)

    def ask(self, n: int = 1) -> list[dict[str, float]]:
        """``n`` distinct designs inside the bounds, in parameter units."""
        n = check_n(n, self.name)
        k = len(self.history)
        if k < self.n_initial or self.history.n_ok < 2:
            # initial design; also while fewer than two successes exist (nothing to model yet)
            unit = sobol_unit_points(self.space.dim, self.seed, k, n)
        else:
            unit = self.propose(n, k)
        return [self.space.from_unit(x) for x in unit]

    # ------------------------------------------------------------------ model-based step
    def _targets_for_minimisation(self) -> tuple[np.ndarray, float]:
        """(-standardised objectives with imputed failures, base likelihood variance)."""
        h = self.history
        z, _, _ = standardise_with_imputation(h.objectives, h.failed, self.impute_margin)
        return -z, self.noise_variance

    def row_noise(self) -> np.ndarray | None:
        """Per-observation noise variance told in ``tell(noise=...)``, in standardised units (0 for
        failures and rows told without noise); None when no noise was told."""
        h = self.history
        told = np.where(np.isfinite(h.noise) & ~h.failed, h.noise, 0.0)
        if not np.any(told > 0):
            return None
        _, _, std = standardise_with_imputation(h.objectives, h.failed, self.impute_margin)
        return told / std**2

    def training_data(self) -> tuple[np.ndarray, np.ndarray, float, np.ndarray | None]:
        """What the GP is fitted to: (x in the unit cube, targets to minimise, likelihood
        variance, per-row extra noise variance or None). A subclass may add rows (e.g. prior
        observations from earlier campaigns) as long as the result depends only on its options
        and the observations told."""
        y_min, likelihood_variance = self._targets_for_minimisation()
        return self.history.x_unit, y_min, likelihood_variance, self.row_noise()

    def propose(self, n: int, k: int) -> np.ndarray:
        """``n`` model-based points in the unit cube after ``k`` observations (public extension
        point: a subclass that overrides ``ask`` calls it; it fits the GP to :meth:`training_data`)."""
        from . import _gp

        m = _tf.load()
        tf = m.tf
        dim = self.space.dim
        x, y_min, likelihood_variance, extra_noise = self.training_data()
        session = _gp.session(dim, self.learn_noise, self.kernel)
        model = session.fit(
            x,
            y_min,
            likelihood_variance,
            seed=derived_seed(self.seed, k, salt=2),
            num_kernel_samples=self.num_kernel_samples,
            extra_noise=extra_noise,
        )
        self.last_model = model
        data = m.Dataset(tf.constant(x, dtype=tf.float64), tf.constant(y_min[:, None], dtype=tf.float64))
        box = session.box
        rule, stochastic = self._rule(session, n)
        s = derived_seed(self.seed, k)
        box.reseed(s)  # the acquisition optimiser's random starts: seeded, no tensorflow state
        if stochastic:  # Monte-Carlo acquisitions draw from tensorflow's global generator
            tf.random.set_seed(s)
            np.random.seed(s)
        try:
            x_new = rule.acquire_single(box, model, dataset=data).numpy().reshape(n, dim)
        except m.FailedOptimizationError as exc:
            # every L-BFGS-B run of the acquisition failed (seen with local penalisation on a GP
            # that has all but converged): propose the most distant random points instead of
            # ending the campaign; still a function of (seed, observations) only
            import warnings

            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            warnings.warn(f"optimizer {self.name!r}: acquisition optimisation failed after {k} observations "
                          f"({reason}); proposing space-filling points", RuntimeWarning, stacklevel=2)
            # with an infinite tolerance every row is replaced by the farthest random candidate
            return self._deduplicate(np.zeros((n, dim)), k, tolerance=np.inf)
        return self._deduplicate(np.clip(x_new, 0.0, 1.0), k)

    def _rule(self, session, n: int):
        """(acquisition rule, whether it draws tensorflow random numbers).

        EI and local penalisation hold no random state between calls (their random points come
        from the session's reseeded box), so their rules and traced acquisition functions are
        reused across asks through the session. qEI and Thompson sampling keep Monte-Carlo
        samples in their functions, so they get a fresh rule and a reseeded tensorflow each ask
        (slower, but still a pure function of the observations)."""
        m = _tf.load()
        method = "ei" if n == 1 else self.batch
        key = (method, n, self.num_initial_samples, self.num_optimization_runs)
        if method in ("ei", "lp") and key in session.rules:
            return session.rules[key], False
        if method == "ei":
            builder = m.ExpectedImprovement()
        elif method == "lp":
            builder = m.LocalPenalization(session.box, base_acquisition_function_builder=m.ExpectedImprovement())
        elif method == "qei":
            builder = m.BatchMonteCarloExpectedImprovement(sample_size=500)
        else:
            builder = m.ParallelContinuousThompsonSampling()
        acq_opt = m.generate_continuous_optimizer(
            num_initial_samples=self.num_initial_samples, num_optimization_runs=self.num_optimization_runs
        )
        rule = m.EfficientGlobalOptimization(builder, optimizer=acq_opt, num_query_points=n)
        if method in ("ei", "lp"):
            session.rules[key] = rule
        return rule, method not in ("ei", "lp")

    def _deduplicate(self, x: np.ndarray, k: int, tolerance: float | None = None) -> np.ndarray:
        """Replace proposals within ``tolerance`` (default ``dedup_tolerance``) of an observed or
        earlier chosen point by the random candidate farthest from everything (seeded from (seed, k))."""
        tol = self.dedup_tolerance if tolerance is None else tolerance
        rng = np.random.default_rng(derived_seed(self.seed, k, salt=1))
        taken = self.history.x_unit.copy()
        out = []
        for row in x:
            if taken.size and np.min(np.linalg.norm(taken - row, axis=1)) < tol:
                cand = rng.random((256, self.space.dim))
                dist = np.min(np.linalg.norm(cand[:, None, :] - taken[None, :, :], axis=2), axis=1)
                row = cand[int(np.argmax(dist))]
            out.append(row)
            taken = np.vstack([taken, row])
        return np.array(out)


def _positive_int(name: str, value: object, minimum: int, who: str = "trieste") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValidationError(f"optimizer {who!r}: {name}={value!r} must be an integer >= {minimum}")
    return int(value)


def _positive_float(name: str, value: object, allow_zero: bool = False, who: str = "trieste") -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"optimizer {who!r}: {name}={value!r} must be a number") from None
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValidationError(f"optimizer {who!r}: {name}={value!r} must be {'>= 0' if allow_zero else '> 0'}")
    return v
