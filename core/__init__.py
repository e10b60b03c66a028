"""electroforge: closed-loop design of Li-ion battery electrodes, built from plugins.

The public API third-party plugins are written against is ``__all__`` below (the hook markers,
the component protocols, the value objects, the design space, the registry) plus the modules
named in :data:`PUBLIC_MODULES` (docs/plugin-contract.md, "What a plugin may import"). Anything
else, and any name starting with an underscore, is internal and may change without notice;
tests/test_boundary.py fails when a built-in plugin or a contrib package crosses that line or
imports another built-in plugin.
"""
import os as _os

# OpenMP threads that spin while waiting (the default) make a 2-thread torch solve ~14x slower
# when another process holds a core (measured: four metrics at 128³ 17.9 s vs 1.35 s passive;
# idle 0.91 s vs 1.17 s). Passive waiting, unless the user chose otherwise; it must be set before
# torch loads its OpenMP runtime, so import electroforge before torch (docs/characterizer.md).
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from electroforge._version import __version__  # noqa: E402
from electroforge.components import CellSimulator, Characterizer, Generator, Optimizer
from electroforge.design import DesignSpace, Parameter
from electroforge.errors import ElectroforgeError
from electroforge.hookspecs import PROJECT_NAME, hookimpl, hookspec
from electroforge.model import (
    ConstantCurrent,
    ConstantPower,
    Electrode,
    Evaluation,
    Metrics,
    Microstructure,
    Performance,
    protocol_from_string,
)
from electroforge.registry import KINDS, Registry, get_registry


#: Modules of the core that plugins may import (each module's own public names, never a name
#: starting with an underscore). Everything else in the core is internal.
PUBLIC_MODULES: tuple[str, ...] = (
    "electroforge",
    "electroforge.campaign",  # Campaign, CampaignSummary, best_evaluation
    "electroforge.cells",  # cell formats and their layouts (HalfCell, Cylindrical, cell_from_name)
    "electroforge.characterization",  # percolation: failure_reason, status_of
    "electroforge.components",  # component protocols
    "electroforge.config",  # CampaignConfig, config_from_dict, load_config
    "electroforge.design",  # Parameter, DesignSpace
    "electroforge.errors",  # ElectroforgeError and its subclasses
    "electroforge.history",  # History, check_n, check_seed, derived_seed, sobol_unit_points
    "electroforge.hookspecs",  # hookimpl, hookspec
    "electroforge.imageio",  # read_microstructure, write_microstructure
    "electroforge.materials",  # CathodeMaterials, NMC811, mass <-> volume fractions
    "electroforge.model",  # value objects
    "electroforge.registry",  # get_registry, Registry
    "electroforge.store",  # CampaignStore (reading campaign files)
    "electroforge.testing",  # the conformance kit
    "electroforge.tfquiet",  # import_tensorflow_quietly
    "electroforge.units",  # parse_length_m, parse_power_W, ...
)


def __getattr__(name: str):
    # The closed loop pulls in rich and the executors: load it on first use only.
    if name in ("Campaign", "CampaignSummary", "evaluate", "load_config"):
        from electroforge import campaign, config

        return {"Campaign": campaign.Campaign, "CampaignSummary": campaign.CampaignSummary,
                "evaluate": campaign.evaluate, "load_config": config.load_config}[name]
    raise AttributeError(f"module 'electroforge' has no attribute {name!r}")


__all__ = [
    "Campaign",
    "CampaignSummary",
    "CellSimulator",
    "Characterizer",
    "Generator",
    "Optimizer",
    "PUBLIC_MODULES",
    "evaluate",
    "load_config",
    "KINDS",
    "PROJECT_NAME",
    "ConstantCurrent",
    "ConstantPower",
    "DesignSpace",
    "Electrode",
    "ElectroforgeError",
    "Evaluation",
    "Metrics",
    "Microstructure",
    "Parameter",
    "Performance",
    "Registry",
    "__version__",
    "get_registry",
    "hookimpl",
    "hookspec",
    "protocol_from_string",
]
