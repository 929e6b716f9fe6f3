"""Which of the window's actions can act, computed from the document in one place."""

from __future__ import annotations

from ..core.edits import OPERATIONS
from ..core.recipe import replayable
from .document import Document

ALWAYS = ("open", "open_folder", "new_tab", "quit", "about", "theme")


def enabled(doc: Document, busy_saving: bool = False, tabs: int = 1) -> dict[str, bool]:
    """Action name -> whether it is enabled. Every action of the window is listed.

    An action is enabled exactly when it can act: edits need an open checkpoint whose
    model state_dict was found (or any tensors, for extract/drop/cast), Save needs unsaved
    edits, the recipe needs edits, undo/redo need their stacks. ``tabs`` is how many
    documents the window shows: closing an empty tab acts only when others remain.
    """
    ckpt = doc.ckpt
    is_open = ckpt is not None
    has_model = ckpt is not None and ckpt.state_dict_key is not None
    has_tensors = ckpt is not None and ckpt.n_tensors > 0
    state = {name: True for name in ALWAYS}
    state.update(
        reload=doc.path is not None,
        close=doc.path is not None or tabs > 1,
        compare=is_open,
        export_csv=has_tensors,
        expand=is_open,
        collapse=is_open,
        filter=is_open,  # the filter and the tree it filters are shown only with a checkpoint
        flagged=is_open,
        largest=has_tensors,
        save=is_open and doc.modified and not busy_saving,
        save_as=is_open and not busy_saving,
        export_recipe=ckpt is not None and replayable(ckpt) is None,
        undo=bool(doc.undo_stack),
        redo=bool(doc.redo_stack),
        compat=has_model,
    )
    for name in OPERATIONS:
        # they work on the model's keys
        needs_model = name in ("strip", "add_prefix", "rename", "graft", "average", "merge_lora")
        state[name] = has_model if needs_model else has_tensors
    return state
