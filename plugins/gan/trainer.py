"""The training loop of the conditional generator (WGAN-GP on 2D slices, SliceGAN-style, plus an
optional 3D critic and matched-statistic terms).

Contract: :func:`train` runs ``steps`` generator updates, each after ``critic_iters`` critic
updates, and writes a full checkpoint (networks, optimisers, RNG states, loss history) every
``checkpoint_every`` steps and at the end; with ``resume=True`` it continues from the checkpoint,
exactly as if it had not stopped. :class:`Trainer` holds the networks and performs one update.

Objective, per step (B training images drawn at random, their parameters as the condition):

* critics (one per axis): Wasserstein loss ``D(fake) - D(real)`` on ``slices_per_axis`` random
  slices of each generated ``tile``³ volume against as many random ``tile``² crops of the real
  image's slices along the same axis, plus the gradient penalty (λ = 10) on interpolates; with
  ``critic3d_weight > 0`` a 3D critic on whole ``tile``³ crops (average-pooled by
  ``critic3d_pool``), trained the same way;
* generator: ``-Σ_axes D(fake)`` (and ``critic3d_weight`` × the 3D critic's score) plus
  ``vf_weight`` × the squared error between each generated volume's mean phase probabilities
  and the volume fractions measured on its training image (averaged with the same error on
  probabilities sharpened by ``vf_temperature``, which track the argmax labels that inference
  returns), plus the matched statistics of :mod:`electroforge.plugins.gan.losses` (S2, binder
  coverage, erosion curve, Euler characteristic), each with its weight in
  :class:`~electroforge.plugins.gan.config.TrainConfig`.
  The volume-fraction and statistic terms are cheap moment-matching aids: with the few thousand
  updates a CPU affords, they pin what the adversarial terms alone learn slowly.
"""
from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from electroforge.errors import InputFileError, ValidationError
from electroforge.plugins.gan import calibration, losses, monitoring, persistence
from electroforge.plugins.gan.config import TrainConfig, pick_device
from electroforge.plugins.gan.data import TrainingSet
from electroforge.plugins.gan.designs import build_generator
from electroforge.plugins.gan.nets import CondCritic2D, CondCritic3D


class Trainer:
    """Holds the networks, optimisers and data; :meth:`step` performs one generator update."""

    def __init__(self, data: TrainingSet, config: TrainConfig):
        self.data, self.cfg = data, config
        self.device = pick_device(config.device)
        for i, v in enumerate(data.volumes):
            if min(v.shape) < config.tile:
                name = data.files[i] if i < len(data.files) else f"image {i}"
                raise ValidationError(
                    f"training image {name}: shape {tuple(v.shape)} has an edge shorter than the {config.tile}-voxel training tile"
                )
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        n_par, n_ph = len(data.param_names), len(data.phases)
        self.G = build_generator(attrs.asdict(config), n_par, data.phases, subpixel=config.subpixel).to(self.device)
        if config.init_weights:
            from electroforge.plugins.gan.generator import load_weights

            payload = load_weights(config.init_weights)
            try:
                self.G.load_state_dict(persistence.float_state_dict(payload))
            except RuntimeError:
                raise ValidationError(
                    f"init_weights {config.init_weights}: its generator ({payload.get('output', 'voxels')}, nz "
                    f"{payload['nz']}, channels {tuple(payload['channels'])}) does not fit this design "
                    f"({config.output}, nz {config.nz}, channels {config.channels})"
                ) from None
        self.G_ema = None
        if config.ema_decay > 0:
            self.G_ema = copy.deepcopy(self.G).eval()
            for p in self.G_ema.parameters():
                p.requires_grad_(False)
        self.Ds = torch.nn.ModuleList(
            CondCritic2D(n_par, n_ph, config.tile, config.critic_channels) for _ in range(3)
        ).to(self.device)
        betas = (0.0, 0.9)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.optD = torch.optim.Adam(self.Ds.parameters(), lr=config.lr, betas=betas)
        self.D3: CondCritic3D | None = None
        self.optD3: torch.optim.Adam | None = None
        if config.critic3d_weight > 0:
            self.D3 = CondCritic3D(n_par, n_ph, config.tile, config.critic3d_channels or config.critic_channels,
                                   pool=config.critic3d_pool).to(self.device)
            self.optD3 = torch.optim.Adam(self.D3.parameters(), lr=config.lr, betas=betas)
        self.volumes = [torch.from_numpy(np.array(v, dtype=np.int64)) for v in data.volumes]
        self.cond = torch.tensor(data.scaled, dtype=torch.float32)
        self.fractions = torch.tensor(data.fractions(), dtype=torch.float32)
        self.s2_r_max = config.tile // 2
        self.s2_targets = (losses.image_s2(data.volumes, n_ph, self.s2_r_max) if config.s2_weight > 0 else None)
        self.coverage_phases: tuple[int, int] | None = None
        self.coverage_targets = None
        if config.coverage_weight > 0:
            missing = [ph for ph in ("active", "binder") if ph not in data.phases]
            if missing:
                raise ValidationError(f"training option coverage_weight={config.coverage_weight!r}: the images have "
                                      f"no phase named {' or '.join(map(repr, missing))} (phases: {', '.join(data.phases)})")
            self.coverage_phases = (data.phases.index("active"), data.phases.index("binder"))
            self.coverage_targets = losses.image_coverage(data.volumes, n_ph, *self.coverage_phases)
        self.erosion_phases = [data.phases.index(ph) for ph in losses.EROSION_PHASES if ph in data.phases]
        self.erosion_targets = None
        if config.erosion_weight > 0:
            if not self.erosion_phases:
                raise ValidationError(f"training option erosion_weight={config.erosion_weight!r}: the images have no "
                                      f"phase named {' or '.join(map(repr, losses.EROSION_PHASES))} (phases: {', '.join(data.phases)})")
            self.erosion_targets = losses.image_erosion(data.volumes, n_ph, self.erosion_phases, config.erosion_radius)
        self.topology_phases = [data.phases.index(ph) for ph in losses.TOPOLOGY_PHASES if ph in data.phases]
        self.euler_targets = None
        if config.euler_weight > 0:
            if not self.topology_phases:
                raise ValidationError(f"training option euler_weight={config.euler_weight!r}: the images have no "
                                      f"phase named {' or '.join(map(repr, losses.TOPOLOGY_PHASES))} (phases: {', '.join(data.phases)})")
            self.euler_targets = losses.image_euler(data.volumes, n_ph, self.topology_phases)
        self.step_count = 0
        self.history: list[dict[str, float]] = []
        self.fidelity: list[dict[str, float]] = []
        """Records of the training monitor (``train(monitor=...)``), one per evaluation."""

    @property
    def G_export(self) -> torch.nn.Module:
        """The generator that is exported: the weight average when ``ema_decay > 0``."""
        return self.G_ema if self.G_ema is not None else self.G

    def learning_rate(self, step: int | None = None) -> float:
        """The scheduled learning rate at ``step`` (default: the next update's)."""
        n = self.step_count if step is None else step
        hl = self.cfg.lr_half_life_steps
        return self.cfg.lr * (0.5 ** (n / hl) if hl else 1.0)

    @torch.no_grad()
    def _update_ema(self) -> None:
        # warm-up: the average forgets the random initial weights within the first ~10/(1-d) steps
        d = min(self.cfg.ema_decay, (1.0 + self.step_count) / (10.0 + self.step_count))
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1.0 - d)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)  # batch-norm running statistics: the live network's

    # ------------------------------------------------------------------ data
    def _latent(self, b: int, size: int | None = None) -> torch.Tensor:
        lz = self.G.latent_cells(size or self.cfg.tile)
        return torch.randn(b, self.cfg.nz, lz, lz, lz, device=self.device)

    def _real_slices(self, idx: Sequence[int], axis: int) -> torch.Tensor:
        """``slices_per_axis`` random tile² crops of slices normal to ``axis`` from each image."""
        t, s = self.cfg.tile, self.cfg.slices_per_axis
        out = []
        for i in idx:
            vol = self.volumes[i]
            vol_ax = vol.movedim(axis, 0)
            n0, n1, n2 = vol_ax.shape
            k = torch.from_numpy(self.rng.integers(0, n0, s))
            a = self.rng.integers(0, n1 - t + 1, s)
            b = self.rng.integers(0, n2 - t + 1, s)
            crops = torch.stack([vol_ax[k[j], a[j]:a[j] + t, b[j]:b[j] + t] for j in range(s)])
            out.append(crops)
        lab = torch.cat(out).to(self.device)
        return torch.nn.functional.one_hot(lab, len(self.data.phases)).permute(0, 3, 1, 2).float()

    def _real_tiles(self, idx: Sequence[int]) -> torch.Tensor:
        """One random ``tile``³ crop of each image in ``idx``, one-hot ``(B, n_phases, t, t, t)``."""
        t = self.cfg.tile
        crops = []
        for i in idx:
            vol = self.volumes[i]
            o = [int(self.rng.integers(0, n - t + 1)) for n in vol.shape]
            crops.append(vol[o[0]:o[0] + t, o[1]:o[1] + t, o[2]:o[2] + t])
        lab = torch.stack(crops).to(self.device)
        return torch.nn.functional.one_hot(lab, len(self.data.phases)).permute(0, 4, 1, 2, 3).float()

    def _fake_slices(self, fake: torch.Tensor, axis: int) -> torch.Tensor:
        """``slices_per_axis`` random slices normal to ``axis`` of each generated volume."""
        b, c, t = fake.shape[0], fake.shape[1], fake.shape[2]
        moved = fake.movedim(2 + axis, 1)  # (B, T, C, T, T)
        k = torch.from_numpy(self.rng.integers(0, t, (b, self.cfg.slices_per_axis))).to(self.device)
        picked = moved[torch.arange(b, device=self.device)[:, None], k]  # (B, S, C, T, T)
        return picked.reshape(-1, c, t, t)

    def _gradient_penalty(self, D, real, fake, c) -> torch.Tensor:
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=self.device)
        x = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(x, c).sum(), x, create_graph=True)
        return self.cfg.gp_lambda * ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()

    # ------------------------------------------------------------------ one update
    def step(self) -> dict[str, float]:
        cfg = self.cfg
        s = cfg.slices_per_axis
        lr = self.learning_rate()
        for opt in (o for o in (self.optG, self.optD, self.optD3) if o is not None):
            for group in opt.param_groups:
                group["lr"] = lr
        d_losses, w_dists, w3_dists = [], [], []
        for _ in range(cfg.critic_iters):
            idx = self.rng.integers(0, len(self.volumes), cfg.batch)
            c = self.cond[idx].to(self.device)
            cs = c.repeat_interleave(s, 0)
            with torch.no_grad():
                fake = self.G(self._latent(cfg.batch), c)
            self.optD.zero_grad(set_to_none=True)
            total = 0.0
            for ax, D in enumerate(self.Ds):
                real = self._real_slices(idx, ax)
                fs = self._fake_slices(fake, ax)
                d_real, d_fake = D(real, cs).mean(), D(fs, cs).mean()
                loss = d_fake - d_real + self._gradient_penalty(D, real, fs, cs)
                loss.backward()
                total += float(loss.detach())
                w_dists.append(float((d_real - d_fake).detach()))
            self.optD.step()
            d_losses.append(total / 3)
            if self.D3 is not None:
                self.optD3.zero_grad(set_to_none=True)
                real3 = self._real_tiles(idx)
                d_real, d_fake = self.D3(real3, c).mean(), self.D3(fake, c).mean()
                (d_fake - d_real + self._gradient_penalty(self.D3, real3, fake, c)).backward()
                self.optD3.step()
                w3_dists.append(float((d_real - d_fake).detach()))
        idx = self.rng.integers(0, len(self.volumes), cfg.batch)
        c = self.cond[idx].to(self.device)
        cs = c.repeat_interleave(s, 0)
        self.optG.zero_grad(set_to_none=True)
        logits = self.G.logits(self._latent(cfg.batch), c)
        fake = torch.softmax(logits, dim=1)
        adv = -sum(D(self._fake_slices(fake, ax), cs).mean() for ax, D in enumerate(self.Ds)) / 3
        if self.D3 is not None:
            adv = adv - cfg.critic3d_weight * self.D3(fake, c).mean()
        target = self.fractions[idx].to(self.device)
        sharp = torch.softmax(logits / cfg.vf_temperature, dim=1)  # ~ the argmax labels generate() returns
        vf_err = 0.5 * (((fake.mean(dim=(2, 3, 4)) - target) ** 2).sum(1).mean()
                        + ((sharp.mean(dim=(2, 3, 4)) - target) ** 2).sum(1).mean())
        loss_g = adv + cfg.vf_weight * vf_err
        def matched(statistic, targets):
            """Squared error of a statistic against its training images', averaged over the plain
            and the sharpened probabilities (None when the term is off)."""
            if targets is None:
                return None
            t = targets[idx].to(self.device)
            return 0.5 * (((statistic(fake) - t) ** 2).mean() + ((statistic(sharp) - t) ** 2).mean())

        ph, r = self.erosion_phases, cfg.erosion_radius
        s2_err = matched(lambda q: losses.two_point_correlation_torch(q, self.s2_r_max), self.s2_targets)
        cov_err = matched(lambda q: losses.soft_binder_coverage(q, *self.coverage_phases), self.coverage_targets)
        ero_err = matched(lambda q: losses.erosion_curve_torch(q[:, ph], r), self.erosion_targets)
        eul_err = None
        if self.euler_targets is not None:
            eul_idx, eul_logits, eul_soft = idx, logits, sharp
            if cfg.euler_tile is not None and cfg.euler_tile != cfg.tile:
                eul_idx = idx[:1]
                eul_logits = self.G.logits(self._latent(1, cfg.euler_tile), c[:1])
                eul_soft = torch.softmax(eul_logits / cfg.vf_temperature, dim=1)
            labels = losses.straight_through_labels(eul_logits, eul_soft)[:, self.topology_phases]
            eul_err = ((losses.euler_density_torch(labels) - self.euler_targets[eul_idx].to(self.device)) ** 2).mean()
        for err, weight in ((s2_err, cfg.s2_weight), (cov_err, cfg.coverage_weight), (ero_err, cfg.erosion_weight),
                            (eul_err, cfg.euler_weight)):
            if err is not None:
                loss_g = loss_g + weight * err
        loss_g.backward()
        self.optG.step()
        if self.G_ema is not None:
            self._update_ema()
        self.step_count += 1
        rec = {
            "step": float(self.step_count),
            "loss_d": float(np.mean(d_losses)),
            "loss_g": float(loss_g.detach()),
            "wasserstein": float(np.mean(w_dists)),
            "vf_rmse": float(math.sqrt(float(vf_err.detach()) / len(self.data.phases))),
            "lr": lr,
        }
        if w3_dists:
            rec["wasserstein3d"] = float(np.mean(w3_dists))
        if s2_err is not None:
            rec["s2_rmse"] = float(math.sqrt(float(s2_err.detach())))
        if cov_err is not None:
            rec["coverage_rmse"] = float(math.sqrt(float(cov_err.detach())))
        if ero_err is not None:
            rec["erosion_rmse"] = float(math.sqrt(float(ero_err.detach())))
        if eul_err is not None:
            rec["euler_rmse"] = float(math.sqrt(float(eul_err.detach())))
        self.history.append(rec)
        return rec

    # ------------------------------------------------------------------ persistence
    def state(self) -> dict[str, Any]:
        """The full training state (:func:`~electroforge.plugins.gan.persistence.checkpoint_state`)."""
        return persistence.checkpoint_state(self)

    def save_checkpoint(self, path: str | Path) -> None:
        persistence.save_checkpoint(self, path)

    def load_checkpoint(self, path: str | Path) -> None:
        persistence.load_checkpoint(self, path)


def train(
    data: TrainingSet,
    weights_out: str | Path,
    config: TrainConfig = TrainConfig(),
    resume: bool = False,
    callback: Callable[[dict[str, float]], bool | None] | None = None,
    checkpoint: str | Path | None = None,
    fp16: bool = True,
    monitor: Callable[[Trainer], Mapping[str, float]] | None = None,
    monitor_every: int = 0,
    best_out: str | Path | None = None,
    checkpoint_minutes: float | None = None,
) -> Trainer:
    """Train until ``config.steps`` generator updates (counted across resumes); export the weights.

    ``best_out``: with a monitor, also export calibrated weights there each time the monitor's
    ``score`` is the lowest so far (across resumes), so a run that drifts after its best point
    keeps it (WGAN training does not decrease the fidelity score monotonically).

    ``checkpoint_minutes``: also checkpoint (and export) whenever that much wall time has passed
    since the last checkpoint, so a slow or shared machine still saves often (saving does not
    change the run).

    ``callback(record)`` sees each step's losses; returning True stops early (checkpointed).
    ``monitor(trainer)``, when given, runs every ``monitor_every`` steps (before that step's
    checkpoint) and its record, with ``step`` added, is appended to ``trainer.fidelity`` (kept in
    the checkpoint). It runs under a forked torch RNG, so monitoring does not change training.
    """
    ckpt = Path(checkpoint) if checkpoint else persistence.checkpoint_path_for(weights_out)
    trainer = Trainer(data, config)
    if resume:
        if not ckpt.is_file():
            raise InputFileError(f"{ckpt}: no checkpoint to resume from")
        trainer.load_checkpoint(ckpt)
    trainer.G.train()
    last_save = time.monotonic()
    while trainer.step_count < config.steps:
        rec = trainer.step()
        stop = bool(callback is not None and callback(rec))
        if monitor is not None and monitor_every and trainer.step_count % monitor_every == 0:
            rec = monitoring.run_monitor(trainer, monitor)
            if best_out is not None and "score" in rec and rec["score"] <= monitoring.best_fidelity_score(trainer):
                calibration.export_calibrated(trainer, best_out, fp16=fp16)
        if stop:
            break  # the caller asked to stop (e.g. a wall-time budget): checkpoint and export below
        overdue = checkpoint_minutes is not None and time.monotonic() - last_save >= 60.0 * checkpoint_minutes
        if trainer.step_count % config.checkpoint_every == 0 or overdue:
            trainer.save_checkpoint(ckpt)
            persistence.export_weights(trainer, weights_out, fp16=fp16)
            last_save = time.monotonic()
    trainer.save_checkpoint(ckpt)
    calib = calibration.calibrate_phase_offsets(trainer, config.calibration_size) if config.calibration_size else None
    persistence.export_weights(trainer, weights_out, fp16=fp16, calibration=calib)
    return trainer
