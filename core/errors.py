"""Exceptions for mistakes a user can make.

Every :class:`ElectroforgeError` carries a one-line message that names the culprit (file, key,
value or plugin). The CLI prints it as ``error: <message>`` and exits with status 2 instead of a
traceback; anything else escaping is a bug in electroforge or in a plugin.
"""


class ElectroforgeError(Exception):
    """Base class of user-facing errors; ``str(err)`` is a single line naming the culprit."""


class ValidationError(ElectroforgeError, ValueError):
    """A value object was built with an invalid field (the message names field and value)."""


class PluginError(ElectroforgeError):
    """A plugin or component could not be found, loaded or used."""


class UnknownComponentError(PluginError, KeyError):
    """No component of that kind has that name; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(PluginError):
    """Two distributions provide a component with the same name in one kind."""


class InputFileError(ElectroforgeError):
    """An input file (image, config, metrics JSON, campaign) is missing or malformed."""


class EvaluationError(ElectroforgeError):
    """One evaluation failed in a way that marks it failed (not a crash), e.g. no percolation."""
