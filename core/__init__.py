"""electroforge: closed-loop design of Li-ion battery electrodes, built from plugins.

The public API third-party plugins are written against lives here: the hook markers
(:data:`hookimpl`), the value objects of :mod:`electroforge.model`, the design space of
:mod:`electroforge.design` and the registry of :mod:`electroforge.registry`.
"""
from electroforge._version import __version__
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


def __getattr__(name: str):
    # The closed loop pulls in rich and the executors: load it on first use only.
    if name in ("Campaign", "evaluate", "load_config"):
        from electroforge import campaign, config

        return {"Campaign": campaign.Campaign, "evaluate": campaign.evaluate, "load_config": config.load_config}[name]
    raise AttributeError(f"module 'electroforge' has no attribute {name!r}")

__all__ = [
    "Campaign",
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
