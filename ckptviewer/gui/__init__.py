"""The desktop app (PySide6 + pyqtgraph): a thin layer over ckptviewer.core."""
