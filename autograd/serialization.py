"""``ag.save`` / ``ag.load``: state dicts and checkpoints as safetensors files, written atomically.

Every file ``ag.save`` writes is a standard safetensors file (made by the ``safetensors``
package), so ``safetensors.torch.load_file`` and other safetensors readers open it:

* A flat ``{name: Tensor}`` dict (a module's ``state_dict()``) is stored tensor by tensor under
  its own names: PyTorch's ``safetensors.torch.load_file(path)`` returns the same dict.
* Any other object made of dicts (any hashable keys: str, int, float, bool, None, tuples),
  lists, tuples, ``None``, bool, int, float (incl. inf/nan), str, bytes, Tensors, NumPy arrays
  and NumPy scalars -- an optimizer's ``state_dict()``, a training checkpoint
  ``{"model": ..., "optimizer": ..., "scheduler": ..., "epoch": 3}`` -- round-trips exactly:
  every tensor/array goes into the safetensors tensor table under a key made from its path
  (``"optimizer.state.0.exp_avg"``), and the structure is stored as JSON in the header's
  ``__metadata__``.

* A whole ``nn.Module`` (``ag.save(model, path)``, as PyTorch users save models), alone or
  inside a checkpoint, is stored without pickle as the import path of its class, its tensors
  (under its state-dict names, so ``safetensors`` readers see the weights), its plain
  attributes (numbers, strings, tuples, lists, dicts, dtypes, top-level functions such as an
  activation, referred to by import path) and its submodules, recursively. The constructor is
  not replayed (its arguments are unknown): ``ag.load(path, weights_only=False)`` imports the
  class, checks that it is an ``nn.Module`` subclass, creates the object without calling its
  ``__init__`` (``cls.__new__`` and ``Module.__init__``, which only sets up the registries),
  then restores the attributes, parameters (with ``requires_grad``), buffers (persistent or
  not), submodules and the train/eval mode. Shared submodules and tied parameters stay
  shared. Hooks are not saved (a warning says so); an attribute that is neither plain data
  nor importable (a lambda, an arbitrary object) makes ``save`` raise, naming it.
  ``weights_only=True`` (the default of ``load``) refuses such a file, since rebuilding it
  imports the code the file names.

The ``__metadata__`` entries (all strings, as the format requires):

``format``
    ``"pt"``, so tools that check the framework tag accept the file.
``graphgrad.version``
    The container version: ``"1"``, or ``"2"`` when the tree holds modules.
``graphgrad.tree``
    The object as JSON. JSON null, booleans, integers, finite floats and strings stand for
    themselves; every other value is a one-key JSON object whose key is a type tag:
    ``{"$dict": [[key, value], ...]}`` (insertion order kept, keys encoded like values),
    ``{"$tuple": [...]}``, ``{"$float": "inf" | "-inf" | "nan"}``, ``{"$bytes": "<base64>"}``,
    ``{"$tensor": "<tensor key>"}`` (loads as a Tensor with ``requires_grad=False``),
    ``{"$ndarray": "<tensor key>"}`` and ``{"$scalar": "<tensor key>"}`` (a NumPy scalar kept
    as a 0-d entry), ``{"$dtype": "float32"}``, ``{"$device": "cpu"}``, ``{"$set": [...]}``,
    ``{"$frozenset": [...]}``. A tensor object that occurs twice refers to one key, so sharing
    survives. Modules (version ``"2"``): ``{"$module": {"class": "pkg.mod:Qual.Name", "path":
    "<its path>", "training": bool, "parameters": [[name, {"$tensor": key} | null,
    requires_grad, "<parameter class path>"], ...], "buffers": [[name, {"$tensor": key} | null,
    persistent], ...], "modules": [[name, {"$module": ...} | null], ...], "attributes": [[name,
    value], ...]}}``, ``{"$moduleref": "<path of its first occurrence>"}`` and, in attributes,
    ``{"$global": "pkg.mod:name"}`` (a function or class).
``graphgrad.crc32``
    CRC-32 (8 hex digits) of the tensors' bytes, in sorted key order: bit rot or a partial
    overwrite in the data section is reported instead of silently loaded.

Dtypes (bool, uint8..uint64, int8..int64, float16, float32, float64) are kept. ``dict``
subclasses (``OrderedDict``, ``Counter``) load as ``dict``. Files without ``graphgrad.*``
metadata (written by other tools) load as a flat ``{name: Tensor}`` dict.

Writes are atomic: the bytes go to a temporary file in the destination folder, are flushed and
``fsync``-ed, then ``os.replace`` renames it over the destination; on any exception (or a crash)
the previous file is left intact and the temporary file is removed. Loading parses JSON and
raw tensor bytes only: it never unpickles or otherwise executes anything from the file.

Example:
    >>> import autograd as ag, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> ag.save({"w": ag.ones(2), "epoch": 3, "betas": (0.9, 0.999)}, path)
    >>> ag.load(path)
    {'w': tensor([1., 1.]), 'epoch': 3, 'betas': (0.9, 0.999)}
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

import safetensors
import safetensors.numpy

from ._serial_file import (
    _CRC_KEY,
    _READABLE_VERSIONS,
    _TREE_KEY,
    _VERSION_KEY,
    FORMAT_VERSION,
    MODULE_FORMAT_VERSION,
    PathLike,
    _crc32,
    _parse_header,
    _read_bytes,
    _write_atomic,
)
from ._serial_tree import WeightsOnlyError, _Decoder, _Flattener
from .device import check_device
from .device import device as _Device
from .tensor import Tensor

__all__ = ["save", "load", "WeightsOnlyError", "FORMAT_VERSION", "MODULE_FORMAT_VERSION"]


def _is_flat_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and all(isinstance(k, str) and k != "__metadata__" for k in obj)
        and all(isinstance(v, Tensor) for v in obj.values())
    )


def _serialize(obj: Any) -> bytes:
    flattener = _Flattener()
    if _is_flat_state_dict(obj):
        # every name is written (other readers see them all); a repeated tensor object points to
        # its first name in the tree, so ag.load restores the sharing
        items = []
        for name, tensor in obj.items():
            key = flattener.key_of.get(id(tensor))
            if key is None:
                key = flattener.add_array(tensor, tensor._data, name, repr(name))
            else:
                flattener.arrays[name] = flattener.arrays[key]
            items.append([name, {"$tensor": key}])
        tree: Any = {"$dict": items}
    else:
        tree = flattener.encode(obj, "", "obj")
    metadata = {
        "format": "pt",
        _VERSION_KEY: MODULE_FORMAT_VERSION if flattener.uses_modules else FORMAT_VERSION,
        _TREE_KEY: json.dumps(tree, separators=(",", ":"), allow_nan=False),
        _CRC_KEY: _crc32(flattener.arrays),
    }
    return safetensors.numpy.save(flattener.arrays, metadata=metadata)


def save(obj: Any, f: PathLike | IO[bytes]) -> None:
    """Save a state dict, checkpoint or whole module to ``f`` (a path or binary file object).

    A flat ``{name: Tensor}`` dict is readable by ``safetensors.torch.load_file``; nested
    objects (optimizer state dicts, checkpoints) round-trip exactly through :func:`load`. A
    whole ``nn.Module`` is stored as its class's import path, tensors and plain attributes
    (never pickled) and comes back with ``load(f, weights_only=False)``. Writing to a path is
    atomic: a failure leaves the previous file intact. See the module docstring for the format.

    Example:
        >>> import autograd as ag, io
        >>> buffer = io.BytesIO()
        >>> ag.save({"weight": ag.eye(2)}, buffer)
        >>> ag.load(io.BytesIO(buffer.getvalue()))["weight"]
        tensor([[1., 0.],
                [0., 1.]])
    """
    payload = _serialize(obj)
    if hasattr(f, "write"):
        f.write(payload)  # type: ignore[union-attr]
        return
    _write_atomic(os.fspath(f), payload)  # type: ignore[arg-type]


def load(
    f: PathLike | IO[bytes],
    map_location: Any = None,
    *,
    weights_only: bool | None = None,
    **kwargs: Any,
) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) from a path or binary file object.

    Tensors come back with ``requires_grad=False`` and their saved dtype. A truncated, corrupt or
    foreign file raises ``RuntimeError`` naming the file and the problem; nothing in the file is
    ever executed or unpickled.

    ``weights_only=True`` (the default: None means True, as in PyTorch >= 2.6, and any other
    value counts by its truth, as ``torch.load`` reads it) returns tensors and plain
    containers only: a file holding a whole module (``ag.save(model, path)``) raises
    :class:`WeightsOnlyError`, because rebuilding the module imports the code its file names.
    With ``weights_only=False`` such a module is rebuilt if its class (and every submodule's) is
    an importable ``nn.Module`` subclass; an error names any class it can't find.
    ``map_location`` is accepted as in PyTorch: everything loads onto the CPU, so it may be
    None, ``'cpu'``, a CPU device, a dict mapping saved locations to ``'cpu'``, or a function
    (``lambda storage, location: storage``, not called: there are no storages to move).

    Example:
        >>> import autograd as ag, io, nn
        >>> buffer = io.BytesIO()
        >>> ag.save(nn.Linear(2, 1), buffer)
        >>> ag.load(io.BytesIO(buffer.getvalue()), weights_only=False)
        Linear(in_features=2, out_features=1, bias=True)
    """
    _check_map_location(map_location)
    weights_only = True if weights_only is None else bool(weights_only)
    for key in ("mmap", "pickle_module"):
        kwargs.pop(key, None)
    if kwargs:
        raise TypeError(f"ag.load: unexpected arguments {sorted(kwargs)}")
    data, name = _read_bytes(f)
    header, _ = _parse_header(data, name)
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as error:  # the library's SafetensorError and friends
        raise RuntimeError(f"ag.load: {name} is corrupt (safetensors: {error})") from None
    metadata = header.get("__metadata__") or {}
    if _TREE_KEY not in metadata:
        order = [key for key in header if key != "__metadata__"]
        return {key: Tensor._from_array(arrays[key]) for key in order}
    version = metadata.get(_VERSION_KEY, "")
    if version not in _READABLE_VERSIONS:
        raise RuntimeError(
            f"ag.load: {name} uses graphgrad container version {version!r}, this graphgrad "
            f"reads versions {', '.join(map(repr, _READABLE_VERSIONS))}; upgrade graphgrad"
        )
    expected_crc = metadata.get(_CRC_KEY)
    if expected_crc is not None and _crc32(arrays) != expected_crc:
        raise RuntimeError(
            f"ag.load: {name} is corrupt (the tensor data does not match its CRC-32 "
            f"checksum {expected_crc}; the file was modified or damaged after it was written)"
        )
    try:
        tree = json.loads(metadata[_TREE_KEY])
    except json.JSONDecodeError as error:
        raise RuntimeError(
            f"ag.load: {name} is corrupt (the graphgrad structure is not valid JSON: {error})"
        ) from None
    decoder = _Decoder(arrays, name, weights_only)
    if weights_only and _has_modules(tree):
        raise decoder.refuse(_first_module_spec(tree))
    return decoder.decode(tree)


def _has_modules(node: Any) -> bool:
    """Whether the JSON tree holds a module (the decoder then refuses it up front)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "$module" in item or "$moduleref" in item or "$global" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _first_module_spec(node: Any) -> Any:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "$module" in item:
                return item["$module"]
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def _check_map_location(map_location: Any) -> None:
    """Accept PyTorch's map_location forms that mean 'the CPU'; refuse other devices."""
    if map_location is None or callable(map_location) and not isinstance(
        map_location, (str, _Device)
    ):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        check_device(target, "ag.load(map_location=...)")
