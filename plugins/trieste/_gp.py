"""One GP per process, kept across asks and refitted from fixed starting values.

Why: building a new gpflow model for every ask makes tensorflow re-trace the loss, its gradient
and the acquisition function each time (seconds of CPU per ask). A :class:`GPSession` holds one
``gpflow.models.GPR`` (data in variables of dynamic length, wrapped in trieste's
``GaussianProcessRegression`` so the acquisition machinery can use it) and two ``tf.function``\\ s
traced once: the training loss, and the loss with its gradient, as functions of the flat vector
of unconstrained hyperparameters. Sessions are cached per process by (dimension, learn_noise).

Contract of :meth:`GPSession.fit` (what keeps ``ask`` a pure function of the observations): the
fitted hyperparameters depend only on (x, y, likelihood variance, seed, num_kernel_samples),
never on what the session fitted before. Every fit

1. resets every hyperparameter to data-derived starting values, the ones trieste's ``build_gpr``
   uses: Matern-5/2 (or Matern-3/2, the ``kernel`` option) with ARD lengthscales ``0.2 * sqrt(dim)`` (unit cube) under a log-normal prior
   (scale 1) centred there, kernel variance = the empirical variance of ``y`` under a log-normal
   prior centred there, constant mean = the empirical mean, likelihood variance as given;
2. draws ``num_kernel_samples * (number of hyperparameter entries with a prior)`` candidate
   settings from those priors with a numpy generator seeded by ``seed`` (no tensorflow random
   state is involved, so nothing depends on earlier asks) and keeps the starting values or the
   best candidate, like trieste's ``find_best_model_initialization``;
3. minimises the loss (negative log marginal likelihood minus log prior) with scipy's L-BFGS-B
   from there, as trieste's default gpflow ``Scipy`` optimizer does.
"""
from __future__ import annotations

import math

import numpy as np

from . import _tf

LENGTHSCALE_UNIT = 0.2  # trieste's KERNEL_LENGTHSCALE: initial lengthscale / (range * sqrt(dim))
PRIOR_SCALE = 1.0  # trieste's KERNEL_PRIOR_SCALE: std of log(hyperparameter) under the prior
MAX_LBFGS_ITERATIONS = 1000
_BAD_LOSS = 1e100

#: kernel option -> gpflow kernel class name
KERNELS = {"matern52": "Matern52", "matern32": "Matern32"}

_SESSIONS: dict[tuple[int, bool, str], "GPSession"] = {}


def session(dim: int, learn_noise: bool, kernel: str = "matern52") -> "GPSession":
    """The process-wide GP session for this input dimension, noise setting and kernel (created once)."""
    key = (int(dim), bool(learn_noise), str(kernel))
    if key not in _SESSIONS:
        _SESSIONS[key] = GPSession(*key)
    return _SESSIONS[key]


class GPSession:
    """A GP and its traced loss functions for ``dim``-dimensional inputs in the unit cube."""

    def __init__(self, dim: int, learn_noise: bool, kernel_name: str = "matern52"):
        m = _tf.load()
        tf, tfp, gpflow = m.tf, m.tfp, m.gpflow
        f64 = tf.float64
        self._m = m
        self.dim = dim
        self.learn_noise = learn_noise
        self.lengthscale0 = LENGTHSCALE_UNIT * math.sqrt(dim)
        self._variance_prior_loc = tf.Variable(0.0, dtype=f64, trainable=False)
        kernel = getattr(gpflow.kernels, KERNELS[kernel_name])(variance=1.0, lengthscales=np.full(dim, self.lengthscale0))
        kernel.lengthscales.prior = tfp.distributions.LogNormal(
            tf.constant(np.full(dim, math.log(self.lengthscale0)), dtype=f64), tf.constant(PRIOR_SCALE, dtype=f64)
        )
        kernel.variance.prior = tfp.distributions.LogNormal(self._variance_prior_loc, tf.constant(PRIOR_SCALE, dtype=f64))
        mean = gpflow.mean_functions.Constant(np.zeros(1))
        x0, y0 = np.linspace(0.0, 1.0, 2 * dim).reshape(2, dim), np.array([[0.0], [1.0]])
        #: extra noise variance per training row (0 for ordinary observations), see fit(extra_noise=...)
        self._extra_noise = tf.Variable(np.zeros(2), shape=[None], dtype=f64, trainable=False)
        likelihood = _row_noise_likelihood_class(gpflow)(self._extra_noise, variance=1e-3)
        gpr = gpflow.models.GPR((x0, y0), kernel, mean, likelihood=likelihood)
        gpr.likelihood.variance = gpflow.Parameter(1e-3, transform=gpflow.utilities.positive(lower=1e-12))
        gpflow.set_trainable(gpr.likelihood.variance, learn_noise)
        self.gpr = gpr
        # trieste's wrapper moves the data into variables of dynamic length and keeps a posterior cache
        self.model = m.GaussianProcessRegression(gpr, num_kernel_samples=0)
        self._params = list(gpr.trainable_parameters)
        self._uvars = [p.unconstrained_variable for p in self._params]
        self._sizes = [int(np.prod(v.shape)) for v in self._uvars]
        self._shapes = [v.shape for v in self._uvars]
        spec = [tf.TensorSpec([sum(self._sizes)], f64)]

        def assign(theta):
            for var, piece, shape in zip(self._uvars, tf.split(theta, self._sizes), self._shapes):
                var.assign(tf.reshape(piece, shape))

        @tf.function(input_signature=spec)
        def loss(theta):
            assign(theta)
            return gpr.training_loss()

        @tf.function(input_signature=spec)
        def loss_and_grad(theta):
            assign(theta)
            with tf.GradientTape() as tape:
                value = gpr.training_loss()
            grads = tape.gradient(value, self._uvars)
            return value, tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

        self._loss = loss
        self._loss_and_grad = loss_and_grad
        #: the unit cube, drawing its random samples from a numpy generator reset by ``reseed``
        self.box = _seeded_box_class(m.Box)([0.0] * dim, [1.0] * dim)
        self.rules: dict[tuple, object] = {}  # acquisition rules reused by the optimizer (see optimizer.py)

    # ------------------------------------------------------------------ helpers
    def _theta(self) -> np.ndarray:
        return np.concatenate([v.numpy().reshape(-1) for v in self._uvars])

    def _safe_loss(self, theta: np.ndarray) -> float:
        tf = self._m.tf
        try:
            value = float(self._loss(tf.constant(theta)))
        except tf.errors.InvalidArgumentError:  # Cholesky failure at an extreme setting
            return _BAD_LOSS
        return value if math.isfinite(value) else _BAD_LOSS

    def _safe_loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        tf = self._m.tf
        try:
            value, grad = self._loss_and_grad(tf.constant(theta))
            value, grad = float(value), grad.numpy()
        except tf.errors.InvalidArgumentError:
            return _BAD_LOSS, np.zeros_like(theta)
        if not math.isfinite(value) or not np.all(np.isfinite(grad)):
            return _BAD_LOSS, np.zeros_like(theta)
        return value, grad

    def _candidates(self, rng: np.random.Generator, num_kernel_samples: int) -> list[np.ndarray]:
        """Unconstrained hyperparameter vectors drawn from the priors (other entries at their start)."""
        with_prior = [p for p in self._params if p.prior is not None]
        count = num_kernel_samples * sum(int(np.prod(p.shape)) or 1 for p in with_prior)
        if count == 0:
            return []
        start = [v.numpy() for v in self._uvars]
        blocks = []
        for p, s in zip(self._params, start):
            if p.prior is None:
                blocks.append(np.broadcast_to(s.reshape(1, -1), (count, s.size)))
                continue
            loc = np.broadcast_to(np.asarray(p.prior.loc.numpy(), dtype=float), p.shape).reshape(-1)
            draws = np.exp(loc + PRIOR_SCALE * rng.standard_normal((count, loc.size)))  # log-normal
            unconstrained = p.transform.inverse(draws.reshape((count, *p.shape))).numpy()
            blocks.append(unconstrained.reshape(count, -1))
        return list(np.concatenate(blocks, axis=1))

    # ------------------------------------------------------------------ the fit
    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        likelihood_variance: float,
        seed: int,
        num_kernel_samples: int,
        extra_noise: np.ndarray | None = None,
    ):
        """Fit the GP to (x in the unit cube, y column) and return trieste's model wrapper.

        ``extra_noise``: optional per-row noise variance added to ``likelihood_variance`` (in the
        units of ``y``), e.g. to down-weight observations taken from an earlier, related campaign.
        See the module docstring for the procedure; the result depends on the arguments only.
        """
        from scipy.optimize import minimize

        m = self._m
        tf = m.tf
        x = np.asarray(x, dtype=float).reshape(-1, self.dim)
        y = np.asarray(y, dtype=float).reshape(-1, 1)
        mean0 = float(y.mean())
        var0 = max(float(y.var()), 1e-6)
        extra = np.zeros(len(y)) if extra_noise is None else np.asarray(extra_noise, dtype=float).reshape(-1)
        if extra.shape != (len(y),) or np.any(~np.isfinite(extra)) or np.any(extra < 0):
            raise ValueError("extra_noise must hold one finite variance >= 0 per observation")
        self._extra_noise.assign(extra)
        self.model.update(m.Dataset(tf.constant(x), tf.constant(y)))
        kernel = self.gpr.kernel
        kernel.variance.assign(var0)
        kernel.lengthscales.assign(np.full(self.dim, self.lengthscale0))
        self.gpr.mean_function.c.assign(np.array([mean0]))
        self.gpr.likelihood.variance.assign(likelihood_variance)
        self._variance_prior_loc.assign(math.log(var0))

        best = self._theta()
        best_loss = self._safe_loss(best)
        for cand in self._candidates(np.random.default_rng(seed), num_kernel_samples):
            value = self._safe_loss(cand)
            if value < best_loss:
                best, best_loss = cand, value
        result = minimize(
            self._safe_loss_and_grad, best, jac=True, method="L-BFGS-B", options={"maxiter": MAX_LBFGS_ITERATIONS}
        )
        theta = result.x if np.all(np.isfinite(result.x)) and result.fun <= best_loss else best
        self._safe_loss(np.asarray(theta, dtype=float))  # assigns theta to the model's variables
        self.model.update_posterior_cache()
        return self.model


def _row_noise_likelihood_class(gpflow):
    """A Gaussian likelihood whose variance at the training rows is ``variance + extra[row]``.

    gpflow's GPR asks the likelihood for ``variance_at(X)`` with X = the training inputs (loss and
    posterior cache); an X with another number of rows (e.g. ``predict_y`` at query points, which
    our acquisitions never call) gets the plain ``variance``.
    """

    class RowNoiseGaussian(gpflow.likelihoods.Gaussian):
        def __init__(self, extra, **kwargs):
            super().__init__(**kwargs)
            self._extra = extra

        def variance_at(self, X):
            import tensorflow as tf

            base = super().variance_at(X)  # [N, 1]
            extra = tf.cast(self._extra, base.dtype)[:, None]
            same_rows = tf.equal(tf.shape(X)[0], tf.shape(extra)[0])
            return tf.cond(same_rows, lambda: base + extra, lambda: base)

    return RowNoiseGaussian


def _seeded_box_class(box_cls):
    """A trieste ``Box`` whose ``sample`` draws from a numpy generator that ``reseed(seed)`` resets.

    trieste's acquisition optimiser and local penalisation draw their random points through
    ``space.sample``; drawing them from a reseeded numpy generator makes them a function of the
    seed alone without ``tf.random.set_seed``, which clears tensorflow's kernel caches and would
    cost ~0.6 s of CPU on every ask.
    """

    class SeededBox(box_cls):
        _rng = np.random.default_rng(0)

        def reseed(self, seed: int) -> None:
            self._rng = np.random.default_rng(seed)

        def sample(self, num_samples, seed=None):
            import tensorflow as tf

            lower, upper = self.lower.numpy(), self.upper.numpy()
            u = self._rng.random((int(num_samples), lower.size))
            return tf.constant(lower + (upper - lower) * u, dtype=self.lower.dtype)

    return SeededBox
