"""GGUF tensor names (``blk.0.attn_q.weight``) aligned with the PyTorch names they were
converted from (``model.layers.0.self_attn.q_proj.weight``), for a diff of a GGUF file
against its source checkpoint.

The ``gguf`` package's own tables (``gguf.TensorNameMap``) map a source name to its GGUF
name for one architecture (``general.architecture``) and block count; the map is applied
to the other side's names, and the GGUF side's keys that one of them maps to take that
name. Names nothing maps to stay as they are.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

GGUF = "gguf"  # the format name (formats.sniff.GGUF; core may not import the readers here)
MAX_BLOCKS = 4096  # the name table is built per block: a file's block count is not trusted beyond this
# llama.cpp's converter permutes the rows of attn_q / attn_k for these architectures (its
# rotary embedding interleaves differently from Hugging Face's): values differ by design
PERMUTED_QK = frozenset({"llama"})
_BLOCK = re.compile(r"blk\.(\d{1,9})\.")


def align(a: Checkpoint, a_keys: dict[str, str], b: Checkpoint, b_keys: dict[str, str]) -> tuple[dict, dict, list]:
    """``a_keys`` and ``b_keys`` (aligned key -> raw key) with the GGUF side's keys renamed to
    the other side's names where gguf's name table maps them; and notes saying what was done.

    Nothing changes unless exactly one side is a GGUF file whose architecture the
    installed ``gguf`` package knows.
    """
    if (a.format == GGUF) == (b.format == GGUF):
        return a_keys, b_keys, []
    gguf_side, gg_keys, other_keys = (a, a_keys, b_keys) if a.format == GGUF else (b, b_keys, a_keys)
    meta = gguf_side.metadata.get("gguf") if isinstance(gguf_side.metadata, dict) else None
    arch = meta.get("general.architecture") if isinstance(meta, dict) else None
    table, why = _name_table(arch, gg_keys) if isinstance(arch, str) else (None, "no general.architecture")
    if table is None:
        return a_keys, b_keys, [f"GGUF names not mapped ({why}): tensors are aligned by their names as stored"]
    renamed: dict[str, str] = {}  # GGUF aligned key -> the other side's aligned key
    for key in other_keys:
        target = table.get_name(key, try_suffixes=(".weight", ".bias"))
        if target is not None and target in gg_keys and target not in renamed:
            renamed[target] = key
    new: dict[str, str] = {}
    for key, raw in gg_keys.items():
        name = renamed.get(key, key)
        if name in new or (name != key and name in gg_keys and name not in renamed):
            name = key  # the file already uses that name for another tensor: keep its own
        new[name] = raw
    notes = [f"GGUF names mapped to the other side's with gguf's {arch} name table: {len(renamed)} of {len(gg_keys)}"]
    if arch in PERMUTED_QK and any(k.endswith((".attn_q.weight", ".attn_k.weight")) for k in renamed):
        notes.append(
            f"attn_q and attn_k of a {arch} model converted by llama.cpp differ from their source: "
            "its converter permutes their rows (rotary embedding layout)"
        )
    return (new, b_keys, notes) if a.format == GGUF else (a_keys, new, notes)


def _name_table(arch: str, gg_keys: dict[str, str]) -> tuple[Any, str]:
    """gguf's TensorNameMap for ``arch`` over the blocks the file's names use; or None and why not."""
    try:  # an optional dependency (ckptviewer[gguf])
        import gguf
    except ImportError:
        return None, "the gguf package is not installed: pip install 'ckptviewer[gguf]'"

    archs = {name: enum for enum, name in gguf.MODEL_ARCH_NAMES.items()}
    if arch not in archs:
        return None, f"architecture {arch[:40]!r} has no name table in the gguf package"
    # the blocks the names use, not the file's {arch}.block_count: a forged count of 2**40
    # must not build a table of 2**40 blocks
    blocks = [int(m.group(1)) for k in gg_keys if (m := _BLOCK.match(k))]
    n_blocks = max(blocks, default=-1) + 1
    if n_blocks > MAX_BLOCKS:
        return None, f"block {n_blocks - 1} named, more than {MAX_BLOCKS} blocks"
    return gguf.TensorNameMap(archs[arch], n_blocks), ""
