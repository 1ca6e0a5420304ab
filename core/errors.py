"""Exceptions the core raises; the Processing layer turns them into
``QgsProcessingException`` with the same sentence."""


class InputError(ValueError):
    """Bad input, with a message that tells the analyst what to fix."""


class Cancelled(RuntimeError):
    """The caller asked to stop (e.g. the Processing dialog's Cancel button)."""
