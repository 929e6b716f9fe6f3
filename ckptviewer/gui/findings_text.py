"""A health-scan finding as the window says it: kind, severity, message, why and what to do,
in the current language (core/scan_rules.py marks the English with QT_TRANSLATE_NOOP)."""

from __future__ import annotations

from .core_errors import error_text
from .i18n import translate
from .text import printable


def severity_name(severity: str) -> str:
    """error / warning / info in the current language."""
    names = {
        "error": translate("HealthPanel", "error"),
        "warning": translate("HealthPanel", "warning"),
        "info": translate("HealthPanel", "info"),
    }
    return names.get(severity, severity)


def kind_name(kind: str) -> str:
    """A finding kind as the window names it (the code's ``all_zero`` -> "all zero")."""
    names = {
        "nan": translate("ScanKindName", "nan"),
        "inf": translate("ScanKindName", "inf"),
        "fp16_overflow": translate("ScanKindName", "fp16 overflow"),
        "bn_running_var": translate("ScanKindName", "bn running var"),
        "outlier": translate("ScanKindName", "outlier"),
        "unreadable": translate("ScanKindName", "unreadable"),
        "all_zero": translate("ScanKindName", "all zero"),
        "dead_rows": translate("ScanKindName", "dead rows"),
        "duplicate": translate("ScanKindName", "duplicate"),
        "extreme": translate("ScanKindName", "extreme"),
        "bn_stats_initial": translate("ScanKindName", "bn stats initial"),
        "lora_b_zero": translate("ScanKindName", "lora b zero"),
        "optimizer_nonfinite": translate("ScanKindName", "optimizer nonfinite"),
        "not_scanned": translate("ScanKindName", "not scanned"),
        "untrained": translate("ScanKindName", "untrained"),
        "optimizer_step_zero": translate("ScanKindName", "optimizer step zero"),
        "mostly_zero": translate("ScanKindName", "mostly zero"),
    }
    return names.get(kind, kind.replace("_", " "))


def finding_message(f) -> str:
    """A finding's message in the current language (an unreadable tensor's error by gui/core_errors), printable."""
    text = f.text.render(translate) if getattr(f, "text", None) is not None else error_text(f.message)
    return printable(text)


def finding_why(f) -> str:
    """Why a finding matters, in the current language."""
    return translate("ScanKind", f.why) if f.why else ""


def finding_todo(kind: str) -> str:
    """What to do about a finding of ``kind``, in the current language ("" for an unknown kind)."""
    from ..core.scan_rules import KINDS  # torch: a report exists, so the scan (and torch) is loaded

    k = KINDS.get(kind)
    return translate("ScanKind", k.todo) if k is not None else ""


def checkpoint_place() -> str:
    """How a finding about the whole file names its place."""
    return translate("HealthPanel", "(checkpoint)")


def run_finding_message(f) -> str:
    """A run view finding's message in the current language (gui/core_messages.py knows its shape), printable."""
    from .core_messages import run_finding_text

    return printable(run_finding_text(f.message))


def run_finding_why(f) -> str:
    """What a run view finding means, in the current language (core/run_findings.py marks it)."""
    return translate("RunFinding", f.why) if f.why else ""
