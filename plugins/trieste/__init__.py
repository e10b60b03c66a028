"""Built-in optimizer ``trieste``: Bayesian optimisation (GP + expected improvement, batches by
local penalisation) through trieste's ask-tell interface. tensorflow is imported lazily, on the
first model-based ``ask``, so registering this plugin costs nothing."""
from electroforge import hookimpl

from .optimizer import TriesteOptimizer

__all__ = ["TriesteOptimizer"]


@hookimpl
def register_optimizers():
    return [TriesteOptimizer]
