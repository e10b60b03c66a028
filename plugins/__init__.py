"""Built-in plugins. Each sub-package is registered through the ``electroforge`` entry-point group
in ``pyproject.toml``, exactly as a third-party distribution would be, and imports only the
public API of :mod:`electroforge`."""
