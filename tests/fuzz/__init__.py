"""Coverage-guided fuzzing of the restricted unpickler and every format reader (``make fuzz``).

``seeds.py`` writes valid inputs made by the real libraries, ``targets.py`` holds one
function per target (bytes in; only :class:`~ckptviewer.core.errors.CheckpointError` may
come out), ``mutators.py`` the structure-aware mutations, ``run.py`` the driver (atheris,
or a plain mutation loop without it). Saved crashers live in ``crashers/<target>/`` and
are replayed by ``test_crashers.py``.
"""
