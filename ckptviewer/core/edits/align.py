"""Edits between two checkpoints: graft and compatibility, with keys aligned without
their wrapper prefixes and user prefix maps applied."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from ...formatting import plural
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


LOW_OVERLAP = 0.5
"""A graft warns when fewer than this share of the target's tensors have a counterpart in the
source *and* fewer than this share of the source's tensors have a place in the target.

Either side alone may legitimately be small: an encoder grafted into an encoder-decoder
fills part of the target but places every source tensor; a backbone taken from a bigger
detection model fills the whole target and leaves much of the source behind. When both
are below half, the two checkpoints share little more than common names (``bn1.*``,
``fc.*``): most likely different architectures."""


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
    The report counts every target tensor (taken, or kept and why) and every source
    tensor (taken, or not and why), names patterns that match nothing, and warns when
    the two sides barely overlap (:data:`LOW_OVERLAP`).
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
    t_tensors = {n for n, raw in t_keys.items() if is_tensor(t_sd[raw])}
    s_tensors = {n for n, raw in s_keys.items() if is_tensor(s_sd[raw])}
    replace: dict[str, Any] = {}
    pairs: list[tuple[Any, Any]] = []
    # what happened to each target tensor: the best fate any source key gave it
    fate = dict.fromkeys(t_tensors, "kept_missing")
    rank = {"kept_missing": 0, "kept_not_included": 1, "kept_excluded": 2, "kept_mismatched": 3, "taken": 4}
    source_fate: Counter[str] = Counter()

    def land(t_norm: str, how: str) -> None:
        if rank[how] > rank[fate[t_norm]]:
            fate[t_norm] = how

    for s_norm, s_raw in s_keys.items():
        t_norm = apply_maps(s_norm, maps)
        if s_norm not in s_tensors:
            report.skipped.append({"key": s_norm, "reason": "not a tensor"})
            continue
        if include and not matches(s_norm, include):
            report.skipped.append({"key": s_norm, "reason": "not in --include"})
            source_fate["not_included"] += 1
            if t_norm in fate:
                land(t_norm, "kept_not_included")
            continue
        if exclude and matches(s_norm, exclude):
            report.skipped.append({"key": s_norm, "reason": "excluded"})
            source_fate["excluded"] += 1
            if t_norm in fate:
                land(t_norm, "kept_excluded")
            continue
        if t_norm not in t_tensors:
            why = "is not a tensor" if t_norm in t_keys else "is not"
            report.skipped.append({"key": s_norm, "reason": f"{t_norm!r} {why} in the target"})
            source_fate["no_place"] += 1
            continue
        if fate[t_norm] in ("taken", "kept_mismatched"):  # a map moved two source keys onto one target key
            report.skipped.append({"key": s_norm, "reason": f"another source key already goes to {t_norm!r}"})
            source_fate["collides"] += 1
            continue
        s_entry = source.tensors[full_key(source, key_name(s_raw))]
        t_entry = target.tensors[full_key(target, key_name(t_keys[t_norm]))]
        if s_entry.shape != t_entry.shape or s_entry.dtype != t_entry.dtype:
            report.mismatches.append({
                "key": t_norm, "source_key": s_norm, "source_shape": list(s_entry.shape),
                "target_shape": list(t_entry.shape), "source_dtype": s_entry.dtype_name,
                "target_dtype": t_entry.dtype_name,
            })  # fmt: skip
            source_fate["mismatched"] += 1
            land(t_norm, "kept_mismatched")
            continue
        replace[t_keys[t_norm]] = s_sd[s_raw]
        report.changed.append(full_key(target, key_name(t_keys[t_norm])))
        pairs.append((t_keys[t_norm], s_raw))
        source_fate["taken"] += 1
        land(t_norm, "taken")

    # the counts the summary states, each group adding up to its total
    t_fate = Counter(fate.values())
    tc = report.count("target_tensors", len(t_tensors), **{k: t_fate[k] for k in sorted(rank, key=lambda k: -rank[k])})
    sc = report.count("source_tensors", len(s_tensors), **{k: source_fate[k] for k in
                      ("taken", "mismatched", "excluded", "not_included", "no_place", "collides")})  # fmt: skip
    _say_unmatched(report, s_keys, maps, include, exclude)
    _warn_low_overlap(report, t_tensors, [apply_maps(k, maps) for k in s_tensors])
    report.summary = _graft_summary(tc, sc, source.path.name)
    if sc["collides"]:
        report.warnings.append(
            f"{plural(sc['collides'], 'source tensor')} not taken: "
            "a prefix map puts another source key on the same target key"
        )
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
        report.refuse_if_unmatched("graft")
        raise EditError("graft: no source tensor matches a target key (try a prefix map, see ckpt compat)", report)
    new_sd = rebuild(t_sd, [(k, replace.get(k, v)) for k, v in t_sd.items()])
    report.record = Graft(source, tuple(t_path), tuple(model_state(source)[0]), tuple(pairs))
    new = derive(target, replace_at(target.root, t_path, new_sd), report)
    new.companions = (*target.companions, source)  # the grafted tensors live in the source's file
    report.bytes_before = report.bytes_after = tensor_bytes(new_sd.values())
    return new, report


def _graft_summary(tc: dict[str, int], sc: dict[str, int], source_name: str) -> str:
    """'62 target tensors: 58 taken from a.pth, 4 kept (not in the source); 60 source tensors: ...'."""
    target_parts = [
        (tc["taken"], f"taken from {source_name}"),
        (tc["kept_mismatched"], "kept (shape/dtype differs in the source)"),
        (tc["kept_excluded"], "kept (excluded)"),
        (tc["kept_not_included"], "kept (not in --include)"),
        (tc["kept_missing"], "kept (not in the source)"),
    ]
    source_parts = [
        (sc["taken"], "taken"),
        (sc["mismatched"], "not taken (shape/dtype differs)"),
        (sc["excluded"], "excluded"),
        (sc["not_included"], "not in --include"),
        (sc["no_place"], "with no place in the target"),
        (sc["collides"], "on a target key already taken"),
    ]

    def group(total: int, what: str, parts: list[tuple[int, str]]) -> str:
        shown = [f"{n:,} {label}" for i, (n, label) in enumerate(parts) if n or i == 0]
        return f"{plural(total, what)}: {', '.join(shown)}"

    return f"{group(tc['total'], 'target tensor', target_parts)}; {group(sc['total'], 'source tensor', source_parts)}"


def _say_unmatched(
    report: EditReport, s_keys: dict[str, Any], maps: list[tuple[str, str]], include: list[str] | None,
    exclude: list[str] | None,
) -> None:  # fmt: skip
    """Name the maps, includes and excludes that select no source key (usually a typo)."""
    for src, dst in maps:
        if not any(k.startswith(src) for k in s_keys):
            report.no_match("maps", "--map", f"{src}={dst}", "source key")
    for param, globs in (("include", include), ("exclude", exclude)):
        for glob in dict.fromkeys(globs or []):
            if not any(matches(k, [glob]) for k in s_keys):
                report.no_match(param, f"--{param}", glob, "source key")


def _warn_low_overlap(report: EditReport, t_tensors: set[str], landing: list[str]) -> None:
    """Warn when the two checkpoints share few keys (see :data:`LOW_OVERLAP`).

    ``landing`` is each source tensor's key in the target's terms (maps applied);
    include/exclude play no part: grafting a few layers of the same model is no sign of a
    wrong file.
    """
    if not t_tensors or not landing:
        return
    matched = len(t_tensors.intersection(landing))  # target tensors that some source tensor lands on
    homeless = sum(1 for k in landing if k not in t_tensors)  # source tensors with no place in the target
    if matched >= LOW_OVERLAP * len(t_tensors) or len(landing) - homeless >= LOW_OVERLAP * len(landing):
        return
    share = matched / len(t_tensors)
    pct = "<1%" if 0 < share < 0.01 else f"{share:.0%}"
    report.warnings.append(
        f"only {matched:,} of {plural(len(t_tensors), 'target tensor')} ({pct}) {'has' if matched == 1 else 'have'} "
        f"a match in the source; {plural(homeless, 'source tensor')} {'has' if homeless == 1 else 'have'} no place "
        "in the target — are these the same architecture?"
    )


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
