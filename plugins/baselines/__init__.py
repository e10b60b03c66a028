"""Built-in optimizers `sobol` and `grid` (work in progress)."""
