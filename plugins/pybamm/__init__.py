"""Built-in cell simulator `pybamm` (work in progress)."""
