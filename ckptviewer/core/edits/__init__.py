"""Checkpoint surgery: pure functions from a Checkpoint to an edited copy and a report.

No tensor data is read or copied here: an edit rearranges the unpickled structure (dicts,
lists, lazy tensors) and re-indexes it with :func:`ckptviewer.core.assemble.derive`. Data
moves only when the result is saved (:mod:`ckptviewer.core.save`). Each operation can be
run first as a preview: its report lists what would change, and applying it is just
keeping the returned checkpoint. The source file is never touched.

Keys: globs and ``drop``/``extract``/``cast`` keys are the checkpoint's dotted keys as
``ckpt info`` lists them; ``strip``/``add_prefix``/``rename``/``graft``/``compat`` work on
the keys of the model state_dict (inside a training checkpoint, relative to
``state_dict_key``).

- :mod:`.keys`: strip, add_prefix, rename (the model's keys);
- :mod:`.select`: extract, drop, cast (tensors and entries);
- :mod:`.align`: graft and compat (two checkpoints, keys aligned);
- weight preparation: :mod:`.average` (several checkpoints averaged), :mod:`.lora` (a PEFT
  LoRA adapter merged), :mod:`.ema` (the EMA weights taken), :mod:`.head` (a classifier
  resized); their arithmetic is :mod:`.compute`, deferred tensors computed when saved;
- :mod:`.registry`: every operation described once, for the CLI, the window and the recipe.
"""

from .align import CompatReport, apply_maps, compat, graft, normalized_keys, parse_maps, suggest_maps
from .average import average
from .ema import take_ema
from .head import resize_head
from .keys import add_prefix, model_state, rename, strip
from .lora import merge_lora
from .registry import OPERATIONS, Operation, Param
from .report import EditError, EditReport
from .select import FLOAT_DTYPES, cast, drop, extract

__all__ = [
    "FLOAT_DTYPES", "OPERATIONS", "CompatReport", "EditError", "EditReport", "Operation", "Param", "add_prefix",
    "apply_maps", "average", "cast", "compat", "drop", "extract", "graft", "merge_lora", "model_state",
    "normalized_keys", "parse_maps", "rename", "resize_head", "strip", "suggest_maps", "take_ema",
]  # fmt: skip
