"""The ``trieste-warm`` optimizer: the built-in ``trieste`` optimizer warm-started from earlier
campaign files.

How the earlier campaigns enter: their observations (:mod:`.priors`: mapped onto the new space by
parameter name, standardised per file) are added to the GP's training rows with an extra noise
variance ``prior_noise_variance`` (standardised units; the new campaign's own observations keep
the built-in ``noise_variance``, 1e-5). The GP therefore starts from the old landscape (the first
ask already targets the old optimum instead of a space-filling design) and follows the new
observations wherever they disagree: each new point outweighs a prior one by the ratio of the
noise variances. With no usable prior rows it behaves exactly like ``trieste``.

Resume: ``ask(n)`` stays a pure function of (seed, options, ordered observations, n); the prior
files are part of the options and are read once, at construction (keep them unchanged while a
campaign that uses them runs or resumes). Relative paths are relative to the working directory.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import ValidationError
from electroforge.history import check_n, sobol_unit_points
from electroforge.plugins.trieste import TriesteOptimizer
from electroforge.plugins.trieste.targets import standardise_with_imputation

from .priors import load_prior_observations


class WarmStartOptimizer(TriesteOptimizer):
    """Bayesian optimisation (maximisation) whose GP also sees earlier campaigns' observations.

    Options, in addition to every ``trieste`` option:

    - ``prior_campaigns``: list of campaign files (netCDF) of earlier, related campaigns.
    - ``prior_noise_variance``: noise variance added to each prior observation, in standardised
      objective units (default 1.0, about the variance of the standardised objective: a prior
      point is a hint, not a measurement; measured best of 0.1 and 1.0 on the tests' problem).
    - ``prior_outside``: ``"drop"`` (default) or ``"clip"`` prior points outside the new bounds.
    - ``prior_fixed``: ``{name: value}`` for new parameters an earlier campaign held fixed.
    - ``n_initial``: as ``trieste``; with prior rows the default is 0 (model-based from the first
      ask), without them the ``trieste`` default.
    """

    name = "trieste-warm"

    def __init__(
        self,
        space: DesignSpace,
        seed: int = 0,
        prior_campaigns: object = (),
        prior_noise_variance: float = 1.0,
        prior_outside: str = "drop",
        prior_fixed: Mapping[str, float] | None = None,
        n_initial: int | None = None,
        **options,
    ):
        super().__init__(space=space, seed=seed, n_initial=n_initial, **options)
        try:
            self.prior_noise_variance = float(prior_noise_variance)
        except (TypeError, ValueError):
            self.prior_noise_variance = float("nan")
        if not np.isfinite(self.prior_noise_variance) or self.prior_noise_variance < 0:
            raise ValidationError(f"optimizer {self.name!r}: prior_noise_variance={prior_noise_variance!r} must be a number >= 0")
        if prior_fixed is not None and not isinstance(prior_fixed, Mapping):
            raise ValidationError(f"optimizer {self.name!r}: prior_fixed must be a table name -> value, got {prior_fixed!r}")
        try:
            self.prior = load_prior_observations(
                prior_campaigns, space, outside=prior_outside, fixed=prior_fixed, impute_margin=self.impute_margin
            )
        except ValidationError as exc:
            raise ValidationError(f"optimizer {self.name!r}: {exc}") from None
        if n_initial is None and len(self.prior):
            self.n_initial = 0

    def ask(self, n: int = 1) -> list[dict[str, float]]:
        """``n`` designs; model-based as soon as ``n_initial`` points are observed, using the
        prior rows (so possibly from the very first ask)."""
        if not len(self.prior):
            return super().ask(n)
        n = check_n(n, self.name)
        k = len(self.history)
        if k < self.n_initial:
            unit = sobol_unit_points(self.space.dim, self.seed, k, n)
        else:
            unit = self.propose(n, k)
        return [self.space.from_unit(x) for x in unit]

    def training_data(self):
        """Prior rows (extra noise ``prior_noise_variance``) followed by the new observations."""
        if not len(self.prior):
            return super().training_data()
        h = self.history
        prior = self.prior
        objectives = np.concatenate([prior.objectives, h.objectives])
        failed = np.concatenate([~np.isfinite(prior.objectives), h.failed])
        # one scale for old and new rows: the campaigns optimise the same objective in the same
        # units (e.g. Wh/kg at 10 W and at 20 W); what differs between them is absorbed by the
        # prior rows' extra noise
        z, _, std = standardise_with_imputation(objectives, failed, self.impute_margin)
        likelihood_variance = self.noise_variance
        told = h.noise[~h.failed]
        told = told[np.isfinite(told)]
        if told.size:
            likelihood_variance = max(likelihood_variance, float(told.mean()) / std**2)
        y = z
        x = np.vstack([self.prior.x_unit, h.x_unit])
        extra = np.concatenate([np.full(len(self.prior), self.prior_noise_variance), np.zeros(len(h))])
        return x, -y, likelihood_variance, extra
