"""Core's error messages (CheckpointError) said in the window's language: :func:`error_text`.

Core raises one English line per failure ("<path>: no such file", "<path>: not a PyTorch checkpoint:
a PNG image"); the CLI prints it, JSON carries it. The window's one error path (gui/workers.py, for every
task's failure) and the edit dialogs say it through :func:`error_text`: an edit's refusal by its whole
shape (gui/edit_refusals.py), anything else as "<where>: <cause>" with the cause recognised here, its
place (a path, a URL, a key) kept as core wrote it. What no pattern knows is shown as core wrote it.

The causes covered are those a user meets with ordinary bad input: a missing or unreadable file, a folder
without weights, a file that is not a checkpoint, a truncated or damaged zip, safetensors, GGUF or
torch.export file, a work or memory limit, a remote failure, a save that cannot be done. Hostile-file
refusals from inside the unpickler (rebuild.py's ~60 checks of crafted tensor records) stay in core's
words inside a translated frame: they name pickle internals no translation makes clearer.
"""

from __future__ import annotations

from .core_messages import Rule, match, rules
from .edit_refusals import edit_refusal
from .i18n import SOURCE_LANGUAGE, current_language, translate

N = r"(?P<n>[\d,]+)"


def _described() -> list[Rule]:
    """What a file that is not a checkpoint looks like (sniff.describe, torch_zip.describe_zip)."""
    return [
        (r"a PNG image", translate("CoreError", "a PNG image")),
        (r"a JPEG image", translate("CoreError", "a JPEG image")),
        (r"a GIF image", translate("CoreError", "a GIF image")),
        (r"a PDF document", translate("CoreError", "a PDF document")),
        (r"an? (?P<kind>gzip|bzip2|xz|zstd)-compressed file \(decompress it first\)",
         translate("CoreError", "a {kind}-compressed file (decompress it first)")),
        (r"a 7-zip archive", translate("CoreError", "a 7-zip archive")),
        (r"an HDF5 file \(Keras/h5py weights\?\)", translate("CoreError", "an HDF5 file (Keras/h5py weights?)")),
        (r"a NumPy \.npy array", translate("CoreError", "a NumPy .npy array")),
        (r"an executable \(ELF\)", translate("CoreError", "an executable (ELF)")),
        (r"a Python pickle that torch\.save did not write",
         translate("CoreError", "a Python pickle that torch.save did not write")),
        (r"a JSON file \(" + N + r" bytes\)", translate("CoreError", "a JSON file ({n} bytes)")),
        (r"a text file \(" + N + r" bytes\)", translate("CoreError", "a text file ({n} bytes)")),
        (r"unrecognised binary data \(" + N + r" bytes\)",
         translate("CoreError", "unrecognised binary data ({n} bytes)")),
        (r"the file is empty \(0 bytes\)", translate("CoreError", "the file is empty (0 bytes)")),
        (r"a damaged or truncated zip archive \(no valid central directory\)",
         translate("CoreError", "a damaged or truncated zip archive (no valid central directory)")),
        (r"an empty zip archive", translate("CoreError", "an empty zip archive")),
        (r"a zip archive without data\.pkl \(it holds " + N + r" other entries\)",
         translate("CoreError", "a zip archive without data.pkl (it holds {n} other entries)")),
        (r"a zip archive that torch's reader rejects \(damaged\?\)",
         translate("CoreError", "a zip archive that torch's reader rejects (damaged?)")),
    ]  # fmt: skip


def _unpickling() -> list[Rule]:
    """Why the restricted unpickler stopped, as "cannot read data.pkl (Type: why)" quotes it."""
    return [
        (r"(?P<name>.+) is not in this torch's allowlist",
         translate("CoreError", "{name} is not in this torch's allowlist")),
        (r"(?P<what>.+) asks for " + N + r" bytes; the file's memory budget of (?P<limit>[\d,]+) bytes is spent "
         r"\(a memory bomb\?\)",
         translate("CoreError", "{what} asks for {n} bytes; the file's memory budget of {limit} bytes is spent "
                   "(a memory bomb?)")),
        (r"objects nested more than (?P<n>\d+) levels deep",
         translate("CoreError", "objects nested more than {n} levels deep")),
        (r"the pickle holds a container inside itself \(a reference cycle\)",
         translate("CoreError", "the pickle holds a container inside itself (a reference cycle)")),
        (r"the pickle shares containers so that listing it would visit (?P<n>[\d,]+) entries for (?P<refs>[\d,]+) "
         r"references in the file \(a DAG bomb\?\)",
         translate("CoreError", "the pickle shares containers so that listing it would visit {n} entries for {refs} "
                   "references in the file (a DAG bomb?)")),
        (r"the pickle is nested too deeply to read safely",
         translate("CoreError", "the pickle is nested too deeply to read safely")),
        (r"the pickle asks for more memory than this machine has",
         translate("CoreError", "the pickle asks for more memory than this machine has")),
    ]  # fmt: skip


def _whole() -> list[Rule]:
    """Messages without a place in front: devices, limits of the whole listing, runs, saves."""
    return [
        (r"unknown device (?P<device>.+): use auto, cpu, cuda or cuda:N",
         translate("CoreError", "unknown device {device}: use auto, cpu, cuda or cuda:N")),
        (r"device (?P<device>.+) was asked for, but this machine has no usable CUDA GPU; use --device cpu",
         translate("CoreError", "device {device} was asked for, but this machine has no usable CUDA GPU; choose cpu")),
        (r"device (?P<device>.+) does not exist: this machine has (?P<n>\d+) CUDA device\(s\)",
         translate("CoreError", "device {device} does not exist: this machine has {n} CUDA device(s)")),
        (r"device (?P<device>.+) is not supported: use auto, cpu, cuda or cuda:N",
         translate("CoreError", "device {device} is not supported: use auto, cpu, cuda or cuda:N")),
        (r"tensor keys longer than (?P<n>[\d,]+) characters, or (?P<total>[\d,]+) in all \(a key bomb\?\)",
         translate("CoreError", "tensor keys longer than {n} characters, or {total} in all (a key bomb?)")),
        (r"the keys are too long and deep to show as a tree \(a key bomb\?\)",
         translate("CoreError", "the keys are too long and deep to show as a tree (a key bomb?)")),
        (r"a run needs at least one checkpoint", translate("CoreError", "a run needs at least one checkpoint")),
        (r"cannot save (?P<n>\d+) objects that were not loaded \(untrusted classes\): (?P<shown>.+); drop them "
         r"\(ckpt drop --keys \.\.\.\) or open the file with --trust",
         translate("CoreError", "cannot save {n} objects that were not loaded (untrusted classes): {shown}; drop "
                   "them (Edit ▸ Drop…) or open the file with Trust")),
        (r"cannot make room for (?P<n>\d+) MiB of values \((?P<why>.+)\)",
         translate("CoreError", "cannot make room for {n} MiB of values ({why})")),
    ]  # fmt: skip


def _causes() -> list[Rule]:
    """What went wrong after "<where>: " (a path, URL, key or shard)."""
    described = {"what": lambda what: _say(what, _described)}
    return [
        # opening a path: sniff.py, open.py, folders.py
        (r"no such file", translate("CoreError", "no such file")),
        (r"no such file or folder", translate("CoreError", "no such file or folder")),
        (r"no such object", translate("CoreError", "no such object")),
        (r"permission denied", translate("CoreError", "permission denied")),
        (r"cannot access \((?P<why>.+)\)", translate("CoreError", "cannot access ({why})")),
        (r"cannot read \((?P<why>.+)\)", translate("CoreError", "cannot read ({why})")),
        (r"is a directory; open a checkpoint file inside it \(sharded and distributed checkpoint folders are not "
         r"supported yet\)", translate("CoreError", "is a directory; open a checkpoint file inside it")),
        (r"not a regular file \(a named pipe\)", translate("CoreError", "not a regular file (a named pipe)")),
        (r"not a regular file \(a device or socket\)",
         translate("CoreError", "not a regular file (a device or socket)")),
        (r"not a PyTorch checkpoint: (?P<what>.+)",
         translate("CoreError", "not a PyTorch checkpoint: {what}"), described),
        (r"not a readable checkpoint: (?P<what>.+)",
         translate("CoreError", "not a readable checkpoint: {what}"), described),
        (r"is a directory without a checkpoint \(looked for (?P<names>.+), adapter_model\.\*; it holds nothing\)",
         translate("CoreError", "is a directory without a checkpoint (looked for {names}, adapter_model.*; it is "
                   "empty)")),
        (r"is a directory without a checkpoint \(looked for (?P<names>.+), adapter_model\.\*; it holds (?P<held>.+)\)",
         translate("CoreError", "is a directory without a checkpoint (looked for {names}, adapter_model.*; it holds "
                   "{held})")),
        (r"is a link to a file outside the checkpoint folder; refusing to read it",
         translate("CoreError", "is a link to a file outside the checkpoint folder; refusing to read it")),
        (r"a (?P<fmt>\S+) file cannot be a shard", translate("CoreError", "a {fmt} file cannot be a shard")),
        (r"none of the " + N + r" shards the index names could be read",
         translate("CoreError", "none of the {n} shards the index names could be read")),
        (r"no valid weight_map \(key -> shard file\) in the index",
         translate("CoreError", "no valid weight_map (key -> shard file) in the index")),
        (r"shard name (?P<name>.+) points outside the folder; refusing it",
         translate("CoreError", "shard name {name} points outside the folder; refusing it")),
        (r"larger than " + N + r" MiB; not an index or config",
         translate("CoreError", "larger than {n} MiB; not an index or config")),
        (r"not valid JSON \(line (?P<line>\d+), column (?P<column>\d+)\)",
         translate("CoreError", "not valid JSON (line {line}, column {column})")),
        (r"not valid JSON \(not UTF-8 text\)", translate("CoreError", "not valid JSON (not UTF-8 text)")),
        (r"not valid JSON \(nested too deeply or an oversized number\)",
         translate("CoreError", "not valid JSON (nested too deeply or an oversized number)")),
        (r"Trust runs code from the file; download it and open the local copy to trust it",
         translate("CoreError", "Trust runs code from the file; download it and open the local copy to trust it")),
        (r"an old tar-format torch checkpoint \(torch < 0\.4\); open it with --trust",
         translate("CoreError", "an old tar-format torch checkpoint (torch < 0.4); open it with Trust")),
        (r"the pickle is nested too deeply to read safely",
         translate("CoreError", "the pickle is nested too deeply to read safely")),
        (r"the file asks for more memory than this machine has",
         translate("CoreError", "the file asks for more memory than this machine has")),
        (r"cannot index the checkpoint \((?P<why>.+)\)", translate("CoreError", "cannot index the checkpoint ({why})")),
        # torch.save zip archives: torch_zip.py
        (r"an empty zip archive", translate("CoreError", "an empty zip archive")),
        (r"data\.pkl is larger than " + N + r" MiB", translate("CoreError", "data.pkl is larger than {n} MiB")),
        (r"cannot read data\.pkl \((?P<type>\w+): (?P<why>.+)\)",
         translate("CoreError", "cannot read data.pkl ({why})"),
         {"why": lambda why: _say(why, _unpickling)}),
        (r"cannot read legacy checkpoint \((?P<type>\w+): (?P<why>.+)\)",
         translate("CoreError", "cannot read legacy checkpoint ({why})"), {"why": lambda why: _say(why, _unpickling)}),
        (r"damaged zip record (?P<name>.+) \(its local header is missing\)",
         translate("CoreError", "damaged zip record {name} (its local header is missing)")),
        (r"damaged zip record (?P<name>.+) \(cut short\)",
         translate("CoreError", "damaged zip record {name} (cut short)")),
        (r"damaged zip record (?P<name>.+) \((?P<why>.+)\)",
         translate("CoreError", "damaged zip record {name} ({why})")),
        (r"damaged zip record \((?P<why>.+)\)", translate("CoreError", "damaged zip record ({why})")),
        (r"the zip directory is damaged or crafted \((?P<why>.+)\)",
         translate("CoreError", "the zip directory is damaged or crafted ({why})")),
        (r"storage record (?P<name>\S+) is missing", translate("CoreError", "storage record {name} is missing")),
        (r"storage record (?P<name>\S+) is missing \(damaged or hand-edited file\)",
         translate("CoreError", "storage record {name} is missing (damaged or hand-edited file)")),
        (r"storage record (?P<name>\S+) holds (?P<size>\d+) bytes but (?P<need>\d+) are needed",
         translate("CoreError", "storage record {name} holds {size} bytes but {need} are needed")),
        (r"storage (?P<name>\S+) runs past the end of the file \(truncated\?\)",
         translate("CoreError", "storage {name} runs past the end of the file (truncated?)")),
        (r"storage (?P<name>\S+) runs past the end of its archive",
         translate("CoreError", "storage {name} runs past the end of its archive")),
        (r"storage (?P<name>\S+) is cut short", translate("CoreError", "storage {name} is cut short")),
        (r"storage (?P<name>\S+) is cut short \(truncated file\)",
         translate("CoreError", "storage {name} is cut short (truncated file)")),
        (r"storage (?P<name>\S+) is missing or cut short \(truncated file\)",
         translate("CoreError", "storage {name} is missing or cut short (truncated file)")),
        (r"storage data runs past the end of the file \(truncated file\)",
         translate("CoreError", "storage data runs past the end of the file (truncated file)")),
        (r"the zip holds two records named (?P<name>.+); refusing it",
         translate("CoreError", "the zip holds two records named {name}; refusing it")),
        (r"zip record (?P<name>.+) is compressed; torch\.save never compresses records, refusing it",
         translate("CoreError", "zip record {name} is compressed; torch.save never compresses records, refusing it")),
        (r"zip record (?P<name>.+) has inconsistent sizes; refusing it",
         translate("CoreError", "zip record {name} has inconsistent sizes; refusing it")),
        (r"the checkpoint was closed", translate("CoreError", "the checkpoint was closed")),
        # safetensors_file.py
        (r"safetensors header claims (?P<n>\d+) bytes but the file has only (?P<size>\d+)",
         translate("CoreError", "safetensors header claims {n} bytes but the file has only {size}")),
        (r"safetensors header of (?P<n>\d+) bytes is larger than the 100 MB limit",
         translate("CoreError", "safetensors header of {n} bytes is larger than the 100 MB limit")),
        (r"safetensors header is not valid JSON \(nested too deeply\)",
         translate("CoreError", "safetensors header is not valid JSON (nested too deeply)")),
        (r"safetensors header is not valid JSON \((?P<why>.+)\)",
         translate("CoreError", "safetensors header is not valid JSON ({why})")),
        (r"safetensors header is not a JSON object", translate("CoreError", "safetensors header is not a JSON object")),
        (r"safetensors __metadata__ is not an object of strings",
         translate("CoreError", "safetensors __metadata__ is not an object of strings")),
        (r"safetensors header entry (?P<name>.+) points at bytes (?P<a>\d+)\.\.(?P<b>\d+), outside the (?P<n>\d+) "
         r"data bytes of the file",
         translate("CoreError", "safetensors header entry {name} points at bytes {a}..{b}, outside the {n} data bytes "
                   "of the file")),
        (r"safetensors header entry (?P<name>.+) has unknown dtype (?P<dtype>.+)",
         translate("CoreError", "safetensors header entry {name} has unknown dtype {dtype}")),
        (r"safetensors header entry (?P<name>.+) says shape (?P<shape>.+) of (?P<dtype>\S+) \((?P<need>\d+) bytes\) "
         r"but spans (?P<span>\d+) bytes",
         translate("CoreError", "safetensors header entry {name} says shape {shape} of {dtype} ({need} bytes) but "
                   "spans {span} bytes")),
        (r"safetensors header entry (?P<name>.+) starts at byte (?P<begin>\d+), not where the previous tensor ends "
         r"\((?P<end>\d+)\): overlapping or missing data",
         translate("CoreError", "safetensors header entry {name} starts at byte {begin}, not where the previous "
                   "tensor ends ({end}): overlapping or missing data")),
        (r"safetensors tensors cover (?P<end>\d+) of the file's (?P<n>\d+) data bytes",
         translate("CoreError", "safetensors tensors cover {end} of the file's {n} data bytes")),
        (r"a tensor reaches outside its data", translate("CoreError", "a tensor reaches outside its data")),
        # gguf_file.py
        (r"unknown GGUF version (?P<v>\S+) \(versions 2 and 3 can be read\)",
         translate("CoreError", "unknown GGUF version {v} (versions 2 and 3 can be read)")),
        (r"GGUF version 1 \(before August 2023\) is not supported \(2 and 3 are\)",
         translate("CoreError", "GGUF version 1 (before August 2023) is not supported (2 and 3 are)")),
        (r"a big-endian GGUF file; only little-endian GGUF files can be read",
         translate("CoreError", "a big-endian GGUF file; only little-endian GGUF files can be read")),
        (r"GGUF header ends at byte (?P<n>[\d,]+) but the file has no tensor data after it",
         translate("CoreError", "GGUF header ends at byte {n} but the file has no tensor data after it")),
        (r"GGUF header is cut short: (?P<what>.+) needs (?P<n>[\d,]+) bytes at byte (?P<pos>[\d,]+) of "
         r"(?P<size>[\d,]+)",
         translate("CoreError", "GGUF header is cut short: {what} needs {n} bytes at byte {pos} of {size}")),
        (r"GGUF tensors (?P<a>.+) and (?P<b>.+) overlap in the file",
         translate("CoreError", "GGUF tensors {a} and {b} overlap in the file")),
        (r"tensor (?P<name>.+) is stored in GGML type (?P<type>\d+), which ckptviewer cannot decode: no statistics "
         r"for it",
         translate("CoreError", "tensor {name} is stored in GGML type {type}, which ckptviewer cannot decode: no "
                   "statistics for it")),
        (r"tensor (?P<name>.+) would take (?P<gib>\S+) GiB dequantized to float32, more than the (?P<limit>\d+) GiB "
         r"limit",
         translate("CoreError", "tensor {name} would take {gib} GiB dequantized to float32, more than the {limit} "
                   "GiB limit")),
        (r"tensor (?P<name>.+) is stored as (?P<type>\S+): its values need the gguf package \(pip install "
         r"'ckptviewer\[gguf\]'\)",
         translate("CoreError", "tensor {name} is stored as {type}: its values need the gguf package (pip install "
                   "'ckptviewer[gguf]')")),
        (r"tensor (?P<name>.+) is stored as (?P<type>\S+), which the installed gguf package does not know: no "
         r"statistics for it \(a newer gguf may\)",
         translate("CoreError", "tensor {name} is stored as {type}, which the installed gguf package does not know: "
                   "no statistics for it (a newer gguf may)")),
        (r"tensor (?P<name>.+) is stored as (?P<type>\S+), which the installed gguf package cannot dequantize: no "
         r"statistics for it",
         translate("CoreError", "tensor {name} is stored as {type}, which the installed gguf package cannot "
                   "dequantize: no statistics for it")),
        (r"tensor (?P<name>.+) is cut short \(truncated file\?\)",
         translate("CoreError", "tensor {name} is cut short (truncated file?)")),
        # pt2.py (torch.export archives)
        (r"not a torch\.export archive \(archive_format is (?P<fmt>.+)\)",
         translate("CoreError", "not a torch.export archive (archive_format is {fmt})")),
        (r"torch\.export archive of version (?P<v>.+) is not supported \(this build reads archive version "
         r"(?P<known>.+)\)",
         translate("CoreError", "torch.export archive of version {v} is not supported (this build reads archive "
                   "version {known})")),
        (r"torch\.export archive of schema version (?P<v>.+) is not supported \(this build reads schema version "
         r"(?P<known>.+), as torch (?P<torch>\S+) writes\)",
         translate("CoreError", "torch.export archive of schema version {v} is not supported (this build reads "
                   "schema version {known}, as torch {torch} writes)")),
        (r"torch\.export archive of byte order (?P<order>.+) is not supported",
         translate("CoreError", "torch.export archive of byte order {order} is not supported")),
        (r"an AOTInductor package \(compiled model code\) without an exported program; ckptviewer reads "
         r"torch\.export\.save archives",
         translate("CoreError", "an AOTInductor package (compiled model code) without an exported program; "
                   "ckptviewer reads torch.export.save archives")),
        (r"a torch\.export archive without a models/\*\.json program",
         translate("CoreError", "a torch.export archive without a models/*.json program")),
        (r"record (?P<name>.+) runs past the end of the file \(truncated\?\)",
         translate("CoreError", "record {name} runs past the end of the file (truncated?)")),
        (r"record (?P<name>.+) is cut short", translate("CoreError", "record {name} is cut short")),
        # work and memory limits: limits.py, dtypes.py, stats.py
        (r"(?P<what>.+) would visit (?P<n>[\d,]+) elements, but the file stores only (?P<stored>[\d,]+) for it "
         r"\(overlapping strides or a huge sparse shape\); refused to keep the work bounded\. Compute anyway with "
         r"--force-compute \(CLI\) or the inspector's Compute anyway button",
         translate("CoreError", "{what} would visit {n} elements, but the file stores only {stored} for it "
                   "(overlapping strides or a huge sparse shape); refused to keep the work bounded. Press Compute "
                   "anyway to compute it all the same"), {"what": lambda w: _say(w, _work)}),
        (r"(?P<what>.+) would need (?P<need>.+) of memory \(limit (?P<limit>.+)\); Compute anyway with "
         r"--force-compute \(CLI\) or the inspector's Compute anyway button",
         translate("CoreError", "{what} would need {need} of memory (limit {limit}); press Compute anyway to compute "
                   "it all the same"), {"what": lambda w: _say(w, _work)}),
        (r"torch cannot compute with dtype (?P<dtype>\S+)",
         translate("CoreError", "torch cannot compute with dtype {dtype}")),
        (r"a meta tensor holds no data", translate("CoreError", "a meta tensor holds no data")),
        (r"cannot dequantize \((?P<why>.+)\)", translate("CoreError", "cannot dequantize ({why})")),
        (r"changed on disk since it was opened \((?P<why>.+)\)",
         translate("CoreError", "changed on disk since it was opened ({why})")),
        # remote.py
        (r"access denied \(check your credentials\)", translate("CoreError", "access denied (check your credentials)")),
        (r"remote paths need fsspec: pip install 'ckptviewer\[remote\]'",
         translate("CoreError", "remote paths need fsspec: pip install 'ckptviewer[remote]'")),
        (r"(?P<scheme>\w+):// needs (?P<package>\S+): pip install (?P<same>\S+)",
         translate("CoreError", "{scheme}:// needs {package}: pip install {same}")),
        (r"no filesystem is known for (?P<scheme>\w+):// URLs",
         translate("CoreError", "no filesystem is known for {scheme}:// URLs")),
        (r"the server does not say how large the file is",
         translate("CoreError", "the server does not say how large the file is")),
        (r"the server sent (?P<n>\d+) bytes for a range of (?P<asked>\d+) \(does it honour Range requests\?\)",
         translate("CoreError", "the server sent {n} bytes for a range of {asked} (does it honour Range requests?)")),
        (r"the server answered (?P<status>\d+) to a Range request \(it must honour Range requests\)",
         translate("CoreError", "the server answered {status} to a Range request (it must honour Range requests)")),
        (r"the server sent other bytes than the range asked for",
         translate("CoreError", "the server sent other bytes than the range asked for")),
        (r"the server sent more bytes than the range asked for",
         translate("CoreError", "the server sent more bytes than the range asked for")),
        (r"the file changed on the server while it was read; open it again",
         translate("CoreError", "the file changed on the server while it was read; open it again")),
        (r"remote inputs are read-only", translate("CoreError", "remote inputs are read-only")),
        # runs: run.py, run_listing.py
        (r"no checkpoints found", translate("CoreError", "no checkpoints found")),
        (r"no checkpoints found \((?P<why>.+)\)", translate("CoreError", "no checkpoints found ({why})"),
         {"why": _skipped}),
        (r"no file matches this pattern", translate("CoreError", "no file matches this pattern")),
        # saving: save.py
        (r"is a directory", translate("CoreError", "is a directory")),
        (r"is a folder", translate("CoreError", "is a folder")),
        (r"no such folder", translate("CoreError", "no such folder")),
        (r"is a file of an input checkpoint; refusing to overwrite the source",
         translate("CoreError", "is a file of an input checkpoint; refusing to overwrite the source")),
        (r"is an object of an input checkpoint; refusing to overwrite the source",
         translate("CoreError", "is an object of an input checkpoint; refusing to overwrite the source")),
        (r"could not write \((?P<why>.+)\)", translate("CoreError", "could not write ({why})")),
        (r"cannot write to a web server; write to a local path or object storage",
         translate("CoreError", "cannot write to a web server; write to a local path or object storage")),
        (r"torch\.save cannot write dtype (?P<dtype>\S+); drop or cast that tensor",
         translate("CoreError", "torch.save cannot write dtype {dtype}; drop or cast that tensor")),
        (r"dtype (?P<dtype>\S+) cannot be stored in safetensors",
         translate("CoreError", "dtype {dtype} cannot be stored in safetensors")),
        (r"sparse, quantized and meta tensors cannot be stored in safetensors",
         translate("CoreError", "sparse, quantized and meta tensors cannot be stored in safetensors")),
    ]  # fmt: skip


def _work() -> list[Rule]:
    """What a work limit refused (``limits.check_work`` / ``check_dense``'s ``what``)."""
    return [
        (r"statistics", translate("CoreError", "statistics")),
        (r"a dense copy", translate("CoreError", "a dense copy")),
        (r"densifying this sparse tensor", translate("CoreError", "densifying this sparse tensor")),
        (r"a histogram", translate("CoreError", "a histogram")),
        (r"a comparison", translate("CoreError", "a comparison")),
        (r"an export", translate("CoreError", "an export")),
        (r"an exported copy", translate("CoreError", "an exported copy")),
        (r"writing it out densely", translate("CoreError", "writing it out densely")),
        (r"a heatmap", translate("CoreError", "a heatmap")),
    ]


def _say(message: str, make) -> str:
    said = match(message, rules(make))
    return message if said is None else said


def _skipped(why: str) -> str:
    """Why a run's files were skipped: "name: cause; name: cause" (run.list_run), each cause said."""
    return translate("EditRefusal", "; ").join(_placed(part) or part for part in why.split("; "))


def _placed(message: str) -> str | None:
    """ "<where>: <cause>" with the cause said (the place may hold ": " itself: each split is tried)."""
    start = 0
    while (i := message.find(": ", start)) >= 0:
        cause = match(message[i + 2 :], rules(_causes))
        if cause is not None:
            return translate("CoreError", "{where}: {cause}").format(where=message[:i], cause=cause)
        start = i + 1
    return None


def error_text(message: str) -> str:
    """Core's one-line error ``message`` in the window's language (as core wrote it in English, or when no
    pattern knows it): an edit's refusal, a message without a place, or "<where>: <cause>"."""
    if current_language() == SOURCE_LANGUAGE:
        return message
    said = edit_refusal(message) or match(message, rules(_whole)) or match(message, rules(_causes))
    return said or _placed(message) or message
