"""The document model and the actions' enabled state, without Qt."""

from __future__ import annotations

import torch

from ckptviewer.app.actions import enabled
from ckptviewer.app.document import CLOSED, EDITED, OPENED, SAVED, Document
from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import OPERATIONS, strip
from ckptviewer.core.tree import build_tree


def _opened(tmp_path, name="a.pth"):
    path = tmp_path / name
    torch.save({"module.w": torch.ones(2), "module.b": torch.zeros(1)}, path)
    ckpt = open_checkpoint(path)
    return path, ckpt, build_tree(ckpt)


def test_edits_undo_redo_and_modified(tmp_path):
    doc, events = Document(), []
    doc.changed.connect(events.append)
    path, ckpt, tree = _opened(tmp_path)
    doc.opened(path, False, ckpt, tree)
    assert not doc.modified and doc.describe() == "a.pth"
    edited, _ = strip(ckpt)
    doc.apply(edited, build_tree(edited), "strip")
    assert doc.modified and doc.ckpt is edited and doc.undo_label == "strip"
    assert doc.describe() == "working copy of a.pth (1 edit)"
    doc.undo()
    assert doc.ckpt is ckpt and not doc.modified and doc.redo_label == "strip"  # the very object shown before
    doc.redo()
    assert doc.ckpt is edited and doc.modified
    doc.saved(tmp_path / "out.pth")
    assert not doc.modified and doc.output == tmp_path / "out.pth"
    doc.undo()
    assert doc.modified  # back to the file as opened: not what was saved
    again, _ = strip(ckpt)
    doc.apply(again, build_tree(again), "strip")  # the saved state is gone from the redo path
    assert doc.modified and doc.saved_depth == -1
    assert events == [OPENED, EDITED, EDITED, EDITED, SAVED, EDITED, EDITED]


def test_a_failed_open_changes_nothing(tmp_path):
    """The window calls opened() only on success: the document keeps the file that opened."""
    doc = Document()
    path, ckpt, tree = _opened(tmp_path)
    doc.opened(path, False, ckpt, tree)
    before = doc.state()
    # (a failed open is a worker error: nothing is called on the document)
    assert doc.state() == before and doc.path == path and doc.ckpt is ckpt


def test_close_releases_everything(tmp_path):
    doc, events = Document(), []
    doc.changed.connect(events.append)
    path, ckpt, tree = _opened(tmp_path)
    doc.opened(path, False, ckpt, tree)
    doc.close()
    assert doc.ckpt is None and doc.path is None and not doc.modified and events[-1] == CLOSED


def test_actions_follow_the_document(tmp_path):
    doc = Document()
    state = enabled(doc)
    assert state["open"] and not state["save_as"] and not state["strip"] and not state["reload"]
    path, ckpt, tree = _opened(tmp_path)
    doc.opened(path, False, ckpt, tree)
    state = enabled(doc)
    assert state["save_as"] and state["reload"] and state["close"] and state["compat"]
    assert all(state[name] for name in OPERATIONS) and not state["save"] and not state["undo"]
    assert not state["export_recipe"]
    edited, _ = strip(ckpt)
    doc.apply(edited, build_tree(edited), "strip")
    state = enabled(doc)
    assert state["save"] and state["undo"] and not state["redo"] and state["export_recipe"]
    doc.undo()
    state = enabled(doc)
    assert not state["save"] and state["redo"] and not state["undo"]
    assert not enabled(doc, busy_saving=True)["save_as"]
    doc.close()
    assert enabled(doc) == enabled(Document())
