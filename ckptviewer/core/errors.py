"""Errors that core raises for the user to read.

Every failure the user can cause (a bad path, a damaged file, an unknown format) is a
``CheckpointError`` whose message is one complete sentence, so the CLI prints it as one
line and the GUI shows it in a dialog without a traceback.
"""


class CheckpointError(Exception):
    """A checkpoint could not be opened or processed; ``str(err)`` is the user message."""


class NotACheckpointError(CheckpointError):
    """The file is readable but is not a PyTorch checkpoint in a supported format."""


class DeviceError(CheckpointError):
    """The requested compute device does not exist on this machine."""
