"""Built-in characterizer plugin ``taufactor``: volume fractions, active surface area and binder
coverage, pore tortuosity factor and solid effective conductivity, through the thickness (x).

See :mod:`electroforge.plugins.taufactor.characterizer` and docs/characterizer.md.
"""
from __future__ import annotations

import electroforge
from electroforge.plugins.taufactor.characterizer import TauFactorCharacterizer

__all__ = ["TauFactorCharacterizer"]


@electroforge.hookimpl
def register_characterizers():
    return [TauFactorCharacterizer]
