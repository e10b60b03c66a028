"""Moved to :mod:`electroforge.history` (public core API); this name stays for older imports."""
from electroforge.history import History, check_n, check_seed, derived_seed, sobol_unit_points

__all__ = ["History", "check_n", "check_seed", "derived_seed", "sobol_unit_points"]
