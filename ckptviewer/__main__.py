"""``python -m ckptviewer`` runs the ``ckpt`` command line."""

from .cli import main_exit

main_exit()
