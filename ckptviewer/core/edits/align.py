"""Edits between two checkpoints: graft and compatibility, with keys aligned without
their wrapper prefixes and user prefix maps applied."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..assemble import derive
from ..checkpoint import Checkpoint
from ..index import is_tensor
from ..structure import key_name, rebuild, replace_at
from .keys import full_key, model_state, tensor_bytes
from .report import EditError, EditReport, Graft
from .select import matches


def normalized_keys(ckpt: Checkpoint) -> dict[str, Any]:
    """Model keys without wrapper prefixes -> the raw key (a str, or an int key as saved)."""
    _, sd = model_state(ckpt)
    out: dict[str, Any] = {}
    for k in sd:
        n = key_name(k)
        for p in ckpt.prefixes:
            n = n.removeprefix(p)
        out[n] = k
    return out


def apply_maps(key: str, maps: list[tuple[str, str]]) -> str:
    """``key`` with the first prefix map whose source prefix it starts with applied."""
    for src, dst in maps:
        if key.startswith(src):
            return dst + key[len(src) :]
    return key


def parse_maps(specs: list[str] | None) -> list[tuple[str, str]]:
    """``["encoder.=backbone."]`` -> ``[("encoder.", "backbone.")]``."""
    maps = []
    for spec in specs or []:
        if "=" not in spec:
            raise EditError(f"a prefix map looks like SRC=DST (got {spec!r})")
        src, dst = spec.split("=", 1)
        maps.append((src, dst))
    return maps


def graft(
    target: Checkpoint,
    source: Checkpoint,
    *,
    maps: list[tuple[str, str]] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    skip_mismatched: bool = False,
) -> tuple[Checkpoint, EditReport]:
    """Copy model tensors from ``source`` into ``target``; shapes and dtypes must agree.

    Keys are aligned without each side's wrapper prefixes; ``maps`` rewrite source key
    prefixes, ``include``/``exclude`` globs select source keys (prefix-free form).
    """
    maps = maps or []
    report = EditReport(
        "graft",
        {"source": str(source.path), "maps": [f"{a}={b}" for a, b in maps], "include": list(include or []),
         "exclude": list(exclude or []), "skip_mismatched": skip_mismatched},
    )  # fmt: skip
    t_path, t_sd = model_state(target)
    _, s_sd = model_state(source)
    t_keys, s_keys = normalized_keys(target), normalized_keys(source)
    replace: dict[str, Any] = {}
    pairs: list[tuple[Any, Any]] = []
    for s_norm, s_raw in s_keys.items():
        if include and not matches(s_norm, include):
            continue
        if exclude and matches(s_norm, exclude):
            report.skipped.append({"key": s_norm, "reason": "excluded"})
            continue
        t_norm = apply_maps(s_norm, maps)
        if t_norm not in t_keys:
            report.skipped.append({"key": s_norm, "reason": f"no {t_norm!r} in the target"})
            continue
        s_val, t_val = s_sd[s_raw], t_sd[t_keys[t_norm]]
        if not (is_tensor(s_val) and is_tensor(t_val)):
            report.skipped.append({"key": s_norm, "reason": "not a tensor"})
            continue
        s_entry = source.tensors[full_key(source, key_name(s_raw))]
        t_entry = target.tensors[full_key(target, key_name(t_keys[t_norm]))]
        if s_entry.shape != t_entry.shape or s_entry.dtype != t_entry.dtype:
            report.mismatches.append({
                "key": t_norm, "source_key": s_norm, "source_shape": list(s_entry.shape),
                "target_shape": list(t_entry.shape), "source_dtype": s_entry.dtype_name,
                "target_dtype": t_entry.dtype_name,
            })  # fmt: skip
            continue
        replace[t_keys[t_norm]] = s_val
        report.changed.append(full_key(target, key_name(t_keys[t_norm])))
        pairs.append((t_keys[t_norm], s_raw))
    for param, globs in (("include", include), ("exclude", exclude)):
        # a pattern that selects nothing is usually a typo ("fc*" for "fc.*"): say so, do not guess
        for glob in globs or []:
            if not any(matches(k, [glob]) for k in s_keys):
                report.unmatched.append({"param": param, "pattern": glob})
                report.warnings.append(f"--{param} {glob!r} matches no source key")
    if report.mismatches and not skip_mismatched:
        shown = "; ".join(
            f"{m['key']}: {m['source_shape']} {m['source_dtype']} vs {m['target_shape']} {m['target_dtype']}"
            for m in report.mismatches[:5]
        )
        more = f" (+{len(report.mismatches) - 5} more)" if len(report.mismatches) > 5 else ""
        raise EditError(
            f"graft refused: {len(report.mismatches)} shape/dtype mismatches: {shown}{more}; "
            "--skip-mismatched keeps the target's tensors for those keys, or leave them out with --exclude",
            report,
        )
    if not replace:
        raise EditError("graft: no source tensor matches a target key (try a prefix map, see ckpt compat)", report)
    new_sd = rebuild(t_sd, [(k, replace.get(k, v)) for k, v in t_sd.items()])
    report.record = Graft(source, tuple(t_path), tuple(model_state(source)[0]), tuple(pairs))
    new = derive(target, replace_at(target.root, t_path, new_sd), report)
    new.companions = (*target.companions, source)  # the grafted tensors live in the source's file
    report.bytes_before = report.bytes_after = tensor_bytes(new_sd.values())
    kept = len(t_keys) - len(replace)
    report.summary = f"{len(replace)} tensors grafted from {source.path.name}, {kept} target tensors kept" + (
        f", {len(report.mismatches)} mismatched kept from the target" if report.mismatches else ""
    )
    return new, report


@dataclass
class CompatReport:
    """What ``target_model.load_state_dict(source_state_dict, strict=True)`` would say."""

    source: str
    target: str
    maps: list[str]
    missing: list[str] = field(default_factory=list)  # target keys the source does not provide
    unexpected: list[str] = field(default_factory=list)  # source keys the target has no place for
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0
    suggested_maps: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "compatible": self.compatible}


def compat(
    source: Checkpoint, target: Checkpoint, maps: list[tuple[str, str]] | None = None, *, suggest: bool = True
) -> CompatReport:
    """Compare model keys (wrapper prefixes aside, ``maps`` applied to the source).

    With ``suggest``, a prefix map is suggested when keys are missing and unexpected, and
    only if adding it makes more keys match.
    """
    maps = maps or []
    rep = CompatReport(str(source.path), str(target.path), [f"{a}={b}" for a, b in maps])
    s_keys, t_keys = normalized_keys(source), normalized_keys(target)
    mapped = {apply_maps(k, maps): k for k in s_keys}
    for t_norm, t_raw in t_keys.items():
        if t_norm not in mapped:
            rep.missing.append(t_norm)
            continue
        s_entry = source.tensors.get(full_key(source, key_name(s_keys[mapped[t_norm]])))
        t_entry = target.tensors.get(full_key(target, key_name(t_raw)))
        if s_entry is not None and t_entry is not None and s_entry.shape != t_entry.shape:
            rep.mismatched.append(
                {"key": t_norm, "source_shape": list(s_entry.shape), "target_shape": list(t_entry.shape)}
            )
        else:
            rep.matched += 1
    rep.unexpected = [k for k in mapped if k not in t_keys]
    if suggest and rep.missing and rep.unexpected:
        suggestion = suggest_maps(list(mapped), list(t_keys))
        # suggested only if it really makes more keys load: keys it moves may land on other
        # shapes (mismatched, not matched) or collide, which the key count alone cannot see
        if suggestion and compat(source, target, [*maps, *suggestion], suggest=False).matched > rep.matched:
            rep.suggested_maps = [f"{a}={b}" for a, b in suggestion]
    return rep


MAX_HEADS_PER_REST = 64  # a key ending ("weight") under more target heads than this says nothing about a map


def suggest_maps(source_keys: list[str], target_keys: list[str]) -> list[tuple[str, str]]:
    """Prefix maps (one or two leading segments) that make more source keys land in the target.

    Each key has at most three heads (``""``, one and two segments). Every (source head,
    target head) pair that moves a key onto a target key is counted once per key, through
    an index of target keys by what follows their head; endings shared by more than
    :data:`MAX_HEADS_PER_REST` target heads are skipped. So the work is linear in the
    number of keys, where trying every pair of heads over every key was cubic.
    """
    targets = set(target_keys)
    base = sum(k in targets for k in source_keys)

    def heads(key: str) -> list[str]:
        parts = key.split(".")
        return [""] + [".".join(parts[:n]) + "." for n in (1, 2) if len(parts) > n]

    by_rest: dict[str, set[str]] = {}  # the rest of a target key -> the heads it can follow
    for t in target_keys:
        for head in heads(t):
            by_rest.setdefault(t[len(head) :], set()).add(head)
    gained: dict[tuple[str, str], int] = {}
    lost: dict[str, int] = {}  # source keys under a head that already match as they are
    for k in source_keys:
        matched = k in targets
        for src in heads(k):
            if matched:
                lost[src] = lost.get(src, 0) + 1
            dsts = by_rest.get(k[len(src) :], ())
            if len(dsts) > MAX_HEADS_PER_REST:
                continue
            for dst in dsts:
                if dst != src:
                    gained[(src, dst)] = gained.get((src, dst), 0) + 1
    best: tuple[int, tuple[str, str]] | None = None
    for (src, dst), n in sorted(gained.items()):
        score = base - lost.get(src, 0) + n
        if score > base and (best is None or score > best[0]):
            best = (score, (src, dst))
    return [best[1]] if best else []
