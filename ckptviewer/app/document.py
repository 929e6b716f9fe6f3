"""One open checkpoint and its working copy, as plain Python state.

A :class:`Document` holds the file (path, trust, device), the checkpoint as shown (the
working copy) with its layer tree, the undo and redo stacks of earlier versions, where
and at which depth it was last saved, the health scan and the key to select. It changes
only through its methods, and only on success: a failed open never touches it (the file
and checkpoint shown stay the ones that opened). Every change emits :attr:`changed` with
what changed, for the windows that observe it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.remote import as_path
from .events import Event

if TYPE_CHECKING:
    from ..core.checkpoint import Checkpoint
    from ..core.scan import ScanReport
    from ..core.tree import TreeNode

OPENED, EDITED, SAVED, CLOSED, SCANNED = "opened", "edited", "saved", "closed", "scanned"


@dataclass(frozen=True)
class Version:
    """One state of the working copy: the checkpoint, its tree, and the edit that made it."""

    ckpt: Checkpoint
    tree: TreeNode
    label: str = ""


class Document:
    """See the module docstring. ``changed`` is emitted with one of OPENED, EDITED, SAVED,
    CLOSED, SCANNED."""

    def __init__(self, device: str = "auto") -> None:
        self.changed = Event()
        self.device = device
        self.path: Path | None = None
        self.trusted = False
        self.current: Version | None = None
        self.undo_stack: list[Version] = []
        self.redo_stack: list[Version] = []
        self.saved_depth = 0  # undo depth at the last save (0: as opened; -1: unreachable)
        self.output: Path | None = None  # where the working copy was last saved
        self.scan_report: ScanReport | None = None
        self.pending_key: str | None = None  # the key to select once shown

    # --- what it holds ----------------------------------------------------------------------

    @property
    def ckpt(self) -> Checkpoint | None:
        """The checkpoint shown: the working copy (the file as opened, if not edited)."""
        return self.current.ckpt if self.current is not None else None

    @property
    def tree(self) -> TreeNode | None:
        return self.current.tree if self.current is not None else None

    @property
    def is_open(self) -> bool:
        return self.current is not None

    @property
    def modified(self) -> bool:
        """Edits that are not saved (undoing back to the saved state is not a modification)."""
        return self.current is not None and len(self.undo_stack) != self.saved_depth

    @property
    def n_edits(self) -> int:
        return len(self.ckpt.history) if self.ckpt is not None else 0

    @property
    def undo_label(self) -> str | None:
        return self.undo_stack[-1].label if self.undo_stack else None

    @property
    def redo_label(self) -> str | None:
        return self.redo_stack[-1].label if self.redo_stack else None

    @property
    def shown_as(self) -> Path | None:
        """The file that names the document in tabs and titles: where it was last saved (Save As
        makes the working copy that file, as in any editor), else the file opened."""
        return self.output if self.output is not None else self.path

    def describe(self) -> str:
        """How to name what is shown: the file, or the working copy of it."""
        if self.path is None:
            return "nothing open"
        if not self.n_edits:
            return self.path.name
        return f"working copy of {self.path.name} ({self.n_edits} edit{'s' if self.n_edits != 1 else ''})"

    # --- changes, each on success only ------------------------------------------------------

    def opened(self, path: Path, trusted: bool, ckpt: Checkpoint, tree: TreeNode, key: str | None = None) -> None:
        """``path`` opened: it becomes the document, with no edits (the previous one is closed)."""
        previous = self.ckpt
        if previous is not None and previous.opened is not ckpt.opened:
            previous.opened.close()
        self.path, self.trusted = as_path(path), trusted  # a URL stays a RemotePath
        self.current = Version(ckpt, tree)
        self.undo_stack, self.redo_stack = [], []
        self.saved_depth, self.output = 0, None
        self.scan_report = None
        self.pending_key = key
        self.changed.emit(OPENED)

    def apply(self, ckpt: Checkpoint, tree: TreeNode, label: str) -> None:
        """An edit succeeded: show its result; what was shown goes on the undo stack."""
        assert self.current is not None, "apply() needs an open document"
        self.undo_stack.append(Version(self.current.ckpt, self.current.tree, label))
        self.redo_stack.clear()
        if self.saved_depth >= len(self.undo_stack):
            self.saved_depth = -1  # the saved state can no longer be reached by redo
        self.current = Version(ckpt, tree, label)
        self.scan_report = None
        self.changed.emit(EDITED)

    def undo(self) -> None:
        if not self.undo_stack or self.current is None:
            return
        previous = self.undo_stack.pop()
        self.redo_stack.append(Version(self.current.ckpt, self.current.tree, previous.label))
        self.current = Version(previous.ckpt, previous.tree, previous.label)
        self.scan_report = None
        self.changed.emit(EDITED)

    def redo(self) -> None:
        if not self.redo_stack or self.current is None:
            return
        following = self.redo_stack.pop()
        self.undo_stack.append(Version(self.current.ckpt, self.current.tree, following.label))
        self.current = Version(following.ckpt, following.tree, following.label)
        self.scan_report = None
        self.changed.emit(EDITED)

    def saved(self, path: Path) -> None:
        """The working copy was written to ``path`` (verified)."""
        self.output = Path(path)
        self.saved_depth = len(self.undo_stack)
        self.changed.emit(SAVED)

    def scanned(self, ckpt: Checkpoint, report: ScanReport) -> None:
        """The health scan of ``ckpt`` finished (ignored if another version is shown by now)."""
        if self.ckpt is ckpt:
            self.scan_report = report
            self.changed.emit(SCANNED)

    def close(self) -> None:
        """Nothing open any more (the files are released)."""
        if self.ckpt is not None:
            self.ckpt.opened.close()
        self.path, self.trusted, self.current = None, False, None
        self.undo_stack, self.redo_stack = [], []
        self.saved_depth, self.output, self.scan_report, self.pending_key = 0, None, None, None
        self.changed.emit(CLOSED)

    def state(self) -> dict[str, Any]:
        """A plain summary, for tests and debugging."""
        return {"path": self.path, "modified": self.modified, "undo": len(self.undo_stack),
                "redo": len(self.redo_stack), "saved_depth": self.saved_depth, "output": self.output}  # fmt: skip
