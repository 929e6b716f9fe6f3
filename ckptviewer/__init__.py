"""ckptviewer: a safe, lazy inspector for PyTorch checkpoints."""

__version__ = "0.1.0"
