"""Built-in generator ``gan``: a conditional SliceGAN-style 3D generator (torch), trainable on
labelled images (``electroforge train-generator``); ships weights trained on ``procedural``
output. torch is imported only when the generator is constructed, so listing plugins stays fast.
"""
from __future__ import annotations

import electroforge


@electroforge.hookimpl
def register_generators():
    from electroforge.plugins.gan.generator import GanGenerator

    return [GanGenerator]


@electroforge.hookimpl
def register_commands(app):
    """``electroforge train-generator`` (see :mod:`electroforge.plugins.gan.commands`)."""
    from electroforge.plugins.gan.commands import train_generator

    app.command("train-generator")(train_generator)
