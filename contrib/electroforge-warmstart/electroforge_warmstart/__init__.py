"""electroforge-warmstart: start a Bayesian-optimisation campaign from earlier campaigns.

Registers the optimizer ``trieste-warm`` (:mod:`electroforge_warmstart.optimizer`): the built-in
``trieste`` optimizer whose GP also sees the observations stored in earlier campaign files
(``prior_campaigns``), mapped onto the new design space by parameter name and down-weighted by
an added noise variance. Importing this module is cheap: tensorflow loads on the first ask.
"""
from __future__ import annotations

import electroforge

__all__ = ["register_optimizers"]


@electroforge.hookimpl
def register_optimizers():
    from electroforge_warmstart.optimizer import WarmStartOptimizer

    return [WarmStartOptimizer]
