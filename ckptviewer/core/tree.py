"""Trees of dotted keys: the :class:`Node` both trees share, and the layer tree.

The layer tree: modules as a hierarchy built from dotted tensor keys, with aggregates.

``layer1.0.conv1.weight`` becomes ``layer1`` > ``0`` > ``conv1`` > ``weight``. Each node
knows its tensor count, elements, parameters (model weights only), bytes (shared storage
counted once) and dtype mix. Siblings keep file order, except that numeric siblings are
put in numeric order (``blocks.2`` before ``blocks.10``) where the file sorted them as text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .checkpoint import BUFFER, PARAMETER, Checkpoint, TensorEntry
from .progress import check_current, gc_paused

MAX_LEVELS = 64  # a key with more dots keeps the rest of it in its 64th level's name


def split_key(key: str) -> list[str]:
    """A dotted key's levels in the tree: at most :data:`MAX_LEVELS` (a key of 100,000 dots
    must not make a tree, or a recursion, 100,000 levels deep)."""
    return key.split(".", MAX_LEVELS - 1) if key else []


@dataclass(eq=False, slots=True)
class Node:
    """A node of a tree of dotted keys: the layer tree and the diff tree are made of these.

    ``row`` is the node's position among its parent's children (what a view shows it at).
    """

    name: str
    path: str
    parent: Node | None = None
    children: list[Any] = field(default_factory=list)
    row: int = 0
    _index: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def child(self, name: str) -> Any:
        """The direct child called ``name``, or None."""
        return self._index.get(name)

    def add(self, node: Any) -> Any:
        """Append ``node`` as a child (its ``parent`` must be this node)."""
        self._index[node.name] = node
        self.children.append(node)
        return node

    def find(self, path: str) -> Any:
        """The node at dotted ``path`` ("" is the root), looked up from the root."""
        node: Any = self
        while node is not None and node.parent is not None:
            node = node.parent
        for part in split_key(path):
            node = node.child(part) if node is not None else None
        return node

    def walk(self) -> Iterator[Any]:
        """This node and every node below it, depth first, in order."""
        stack: list[Any] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def number_children(self) -> None:
        """Numeric siblings in numeric order (``blocks.2`` before ``blocks.10``), rows set."""
        kids = self.children
        numeric = [c for c in kids if c.name.isdigit()]
        if len(numeric) > 1:
            ordered = iter(sorted(numeric, key=lambda c: int(c.name)))
            self.children = kids = [next(ordered) if c.name.isdigit() else c for c in kids]
        for i, c in enumerate(kids):
            c.row = i


def dtype_mix(dtypes: Counter | dict[str, int]) -> str:
    """The main dtype of a module and how many others it holds: ``float32 +1``."""
    if not dtypes:
        return ""
    main = max(dtypes, key=dtypes.get)  # type: ignore[arg-type]
    return main if len(dtypes) == 1 else f"{main} +{len(dtypes) - 1}"


@dataclass(eq=False, slots=True)
class TreeNode(Node):
    """A module (inner node) or a tensor (leaf, ``entry`` set) of the layer tree."""

    entry: TensorEntry | None = None
    n_tensors: int = 0
    n_elements: int = 0
    n_params: int = 0
    n_buffers: int = 0
    nbytes: int = 0
    dtypes: Counter = field(default_factory=Counter)  # dtype name -> elements

    @property
    def dtype_text(self) -> str:
        """The dtype of a tensor (a block-quantized GGUF tensor: its type, e.g. Q4_K), the dtype mix of a module."""
        if self.entry is None:
            return dtype_mix(self.dtypes)
        encoding = getattr(self.entry, "encoding", None)
        return encoding.split(",")[0] if encoding else self.entry.dtype_name

    def to_json(self, depth: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name, "path": self.path, "n_tensors": self.n_tensors, "n_elements": self.n_elements,
            "n_params": self.n_params, "n_buffers": self.n_buffers, "nbytes": self.nbytes, "dtypes": dict(self.dtypes),
        }  # fmt: skip
        if self.entry is not None:
            out.update(shape=list(self.entry.shape), dtype=self.entry.dtype_name, role=self.entry.role)
            if getattr(self.entry, "encoding", None):
                out["encoding"] = self.entry.encoding  # stored as (GGUF block types); dtype is what it reads as
        if self.children and (depth is None or depth > 0):
            out["children"] = [c.to_json(None if depth is None else depth - 1) for c in self.children]
        return out


def build_tree(ckpt: Checkpoint) -> TreeNode:
    """The layer tree of every tensor in ``ckpt``."""
    return build_tree_from_entries(list(ckpt.tensors.values()))


def build_tree_from_entries(entries: list[TensorEntry]) -> TreeNode:
    """The layer tree of ``entries`` (keys split at dots)."""
    with gc_paused():
        return _build(entries)


MAX_PATH_CHARS = 1 << 26  # characters of all node paths: deep, long keys cannot multiply memory


def _build(entries: list[TensorEntry]) -> TreeNode:
    root = TreeNode(name="", path="")
    chars = 0
    for entry in entries:
        check_current()
        node = root
        for part in split_key(entry.key) or ["<root>"]:
            nxt = node._index.get(part)
            if nxt is None:
                path = f"{node.path}.{part}" if node.path else part
                chars += len(path)
                if chars > MAX_PATH_CHARS:
                    from .errors import CheckpointError

                    raise CheckpointError("the keys are too long and deep to show as a tree (a key bomb?)")
                nxt = node.add(TreeNode(part, path, parent=node))
            node = nxt
        node.entry = entry
    _order_and_sum(root, _shared_storages(entries))
    return root


def _shared_storages(entries: list[TensorEntry]) -> set[str]:
    seen: Counter = Counter(e.storage_key for e in entries)
    return {k for k, n in seen.items() if n > 1}


def _order_and_sum(root: TreeNode, shared: set[str]) -> None:
    # iterative post-order: a 20,000-tensor tree must not hit the recursion limit
    order = list(root.walk())
    unshared: dict[int, int] = {}
    shared_below: dict[int, dict[str, int]] = {}  # storage key -> bytes, counted once per node
    for node in reversed(order):
        node.number_children()
        own_bytes = 0
        own_shared: dict[str, int] = {}
        e = node.entry
        if e is not None:
            node.n_tensors += 1
            node.n_elements += e.numel
            node.n_params += e.numel if e.role == PARAMETER else 0
            node.n_buffers += e.numel if e.role == BUFFER else 0
            node.dtypes[e.dtype_name] += e.numel
            if e.storage_key in shared:
                own_shared[e.storage_key] = e.nbytes
            else:
                own_bytes += e.nbytes
        for c in node.children:
            node.n_tensors += c.n_tensors
            node.n_elements += c.n_elements
            node.n_params += c.n_params
            node.n_buffers += c.n_buffers
            node.dtypes.update(c.dtypes)
            own_bytes += unshared.pop(id(c))
            for k, b in shared_below.pop(id(c)).items():
                own_shared[k] = max(own_shared.get(k, 0), b)
        node.nbytes = own_bytes + sum(own_shared.values())
        unshared[id(node)] = own_bytes
        shared_below[id(node)] = own_shared
