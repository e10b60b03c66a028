"""``electroforge train-generator``: train the conditional ``gan`` generator on labelled 3D images.

Registered by this plugin's ``register_commands`` hook, so ``--disable gan`` removes it.

``--labels`` is a CSV with a ``file`` column (image names inside ``--images``) and one numeric
column per manufacturing parameter; the parameters' min/max over the rows become the trained
generator's envelope. Writes the inference weights to ``-o`` and a full training checkpoint to
``<output>.ckpt`` every ``--checkpoint-every`` steps; ``--resume`` continues from it.
"""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def train_generator(
    images: Path = typer.Option(..., "--images", help="Folder of labelled 3D images (.tif, .nc, .npy)."),
    labels: Path = typer.Option(..., "--labels", help="CSV: file,<param>,<param>,... one row per image."),
    output: Path = typer.Option(..., "--output", "-o", help="Weights file to write (.pt)."),
    steps: int = typer.Option(2000, "--steps", help="Generator updates in total (counted across resumes)."),
    tile: int = typer.Option(32, "--tile", help="Training tile edge in voxels (a multiple of 2^stages: 8 for the default design)."),
    batch: int = typer.Option(4, "--batch", help="Images (conditions) per step."),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every", help="Steps between checkpoints."),
    resume: bool = typer.Option(False, "--resume", help="Continue from <output>.ckpt."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu or cuda."),
    threads: int = typer.Option(1, "--threads", help="CPU threads for torch."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    voxel_size: str = typer.Option(None, "--voxel-size", help="Voxel size, e.g. 0.4um (needed for .npy images)."),
    fp32: bool = typer.Option(False, "--fp32", help="Store fp32 weights instead of fp16."),
    particle_radius: str = typer.Option(
        None, "--particle-radius",
        help="Active particles' radius for the cell model, e.g. 2.9um (default: measured from the images)."),
) -> None:
    """Train a conditional SliceGAN-style generator (WGAN-GP on 2D slices) with checkpoints and resume."""
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from electroforge.plugins.gan import training
    from electroforge.units import parse_length_m

    torch.set_num_threads(max(1, threads))
    voxel_m = parse_length_m(voxel_size, default_unit="um") if voxel_size else None
    radius_m = parse_length_m(particle_radius, default_unit="um") if particle_radius else None
    data = training.load_training_set(images, labels, voxel_size_m=voxel_m, tile=tile, particle_radius_m=radius_m)
    cfg = training.TrainConfig(steps=steps, tile=tile, batch=batch, checkpoint_every=checkpoint_every,
                               device=device, seed=seed)
    if output.suffix.lower() != ".pt":
        from electroforge.errors import ValidationError

        raise ValidationError(f"--output {output}: weights files end in .pt")
    radius = data.particle_radius_or_estimate_m()
    console.print(f"training on {len(data.volumes)} images, parameters {list(data.param_names)}, "
                  f"envelope {data.bounds}, particle radius "
                  + (f"{radius * 1e6:.2f} um ({'given' if radius_m else 'measured'})" if radius else "unknown"))
    with Progress(TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console) as bar:
        task = bar.add_task("train", total=steps, info="")

        def update(rec):
            bar.update(task, completed=int(rec["step"]),
                       info=f"D {rec['loss_d']:.3f} G {rec['loss_g']:.3f} vf_rmse {rec['vf_rmse']:.3f}")

        trainer = training.train(data, output, cfg, resume=resume, callback=update, fp16=not fp32)
    console.print(f"wrote {output} after {trainer.step_count} steps (checkpoint {training.checkpoint_path_for(output)})")

