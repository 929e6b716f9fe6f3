"""The application's state, without Qt: what a window shows and what its actions may do.

- :mod:`.events`: a tiny observer (``Event``) the windows connect to;
- :mod:`.document`: one open checkpoint and its working copy (undo/redo, saved state,
  scan report, selection) — it changes only when an operation succeeded;
- :mod:`.actions`: which action is enabled, computed from a document in one place.

The window (``ckptviewer.gui``) observes these and draws; tests drive them without Qt.
"""
