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

import base64
import contextlib
import importlib
import json
import math
import os
import pickle
import struct
import sys
import tempfile
import types
import warnings
import zlib
from typing import IO, Any, Union

import numpy as np
import safetensors
import safetensors.numpy

from .device import check_device
from .device import device as _Device
from .tensor import Tensor

PathLike = Union[str, "os.PathLike[str]"]

FORMAT_VERSION = "1"  # plain trees: state dicts, checkpoints
MODULE_FORMAT_VERSION = "2"  # trees that hold whole modules ($module and friends)
_READABLE_VERSIONS = (FORMAT_VERSION, MODULE_FORMAT_VERSION)
_TREE_KEY = "graphgrad.tree"
_VERSION_KEY = "graphgrad.version"
_CRC_KEY = "graphgrad.crc32"
_MAX_HEADER = 100_000_000  # the safetensors library's own limit

# safetensors dtype codes -> NumPy dtypes (the ones both sides support)
_DTYPES = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype(np.uint16),
    "I16": np.dtype(np.int16),
    "U32": np.dtype(np.uint32),
    "I32": np.dtype(np.int32),
    "U64": np.dtype(np.uint64),
    "I64": np.dtype(np.int64),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
}
_SUPPORTED = set(_DTYPES.values())


class _Flattener:
    """Turn an object into (JSON tree, {key: contiguous ndarray})."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.key_of: dict[int, str] = {}
        self.keep_alive: list[Any] = []
        self.active: set[int] = set()
        self.module_paths: dict[int, str] = {}  # id(module) -> the path it was first saved at
        self.uses_modules = False
        self.in_attributes = 0  # > 0 while encoding a module's plain attributes

    def add_array(self, obj: Any, array: np.ndarray, path: str, where: str) -> str:
        if id(obj) in self.key_of:
            return self.key_of[id(obj)]
        array = np.asarray(array)
        if array.dtype not in _SUPPORTED:
            raise TypeError(
                f"ag.save: can't save the array at {where}: dtype {array.dtype} is not supported "
                "by safetensors (use bool, int8-64, uint8-64, float16, float32 or float64)"
            )
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        key = path or "tensor"
        if key in self.arrays or key == "__metadata__":
            n = 2
            while f"{key}#{n}" in self.arrays:
                n += 1
            key = f"{key}#{n}"
        # np.ascontiguousarray would turn a 0-d array into shape (1,)
        self.arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
        self.key_of[id(obj)] = key
        self.keep_alive.append(obj)
        return key

    def encode(self, obj: Any, path: str, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, Tensor):
            return {"$tensor": self.add_array(obj, obj._data, path, where)}
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self.add_array(obj, obj, path, where)}
        if isinstance(obj, np.generic):
            return {"$scalar": self.add_array(obj, np.asarray(obj), path, where)}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            if math.isfinite(obj):
                return float(obj)
            return {"$float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(obj)).decode("ascii")}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.active:
                raise ValueError(f"ag.save: the object contains a reference cycle at {where}")
            self.active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    items = []
                    for key, value in obj.items():
                        child = f"{path}.{key}" if path else str(key)
                        items.append(
                            [
                                self.encode_key(key, where),
                                self.encode(value, child, f"{where}[{key!r}]"),
                            ]
                        )
                    return {"$dict": items}
                elements = [
                    self.encode(value, f"{path}.{i}" if path else str(i), f"{where}[{i}]")
                    for i, value in enumerate(obj)
                ]
                return {"$tuple": elements} if isinstance(obj, tuple) else elements
            finally:
                self.active.discard(id(obj))
        if isinstance(obj, np.dtype):
            return {"$dtype": obj.str if obj.kind == "V" else obj.name}
        if isinstance(obj, _Device):
            return {"$device": str(obj)}
        if isinstance(obj, (set, frozenset)):
            tag = "$set" if isinstance(obj, set) else "$frozenset"
            return {tag: [self.encode_key(item, where) for item in obj]}
        module_class = _module_class()
        if module_class is not None and isinstance(obj, module_class):
            return self.encode_module(obj, path, where)
        if self.in_attributes and (
            isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or isinstance(obj, type)
        ):
            return {"$global": _import_path(obj, where)}
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = f"; save its state_dict() instead ({type(obj).__name__}.state_dict())"
        raise TypeError(
            f"ag.save: can't save an object of type {type(obj).__module__}.{type(obj).__qualname__}"
            f" at {where}; ag.save stores Tensors, NumPy arrays and scalars, dicts, lists, tuples, "
            f"sets, str, bytes, int, float, bool, None, dtypes, devices and nn.Modules{hint}"
        )

    def encode_module(self, module: Any, path: str, where: str) -> Any:
        """A module as its class's import path, its tensors (named like its state dict) and its
        plain attributes; submodules recursively. A module met twice is stored once."""
        if id(module) in self.module_paths:
            return {"$moduleref": self.module_paths[id(module)]}
        self.module_paths[id(module)] = path
        self.uses_modules = True
        internal = _module_internal_keys()

        def child(name: str) -> str:
            return f"{path}.{name}" if path else name

        parameters = []
        for name, param in module._parameters.items():
            if param is None:
                parameters.append([name, None, False, None])
                continue
            key = self.add_array(param, param._data, child(name), f"{where}.{name}")
            kind = _import_path(type(param), f"{where}.{name}")
            parameters.append([name, {"$tensor": key}, bool(param.requires_grad), kind])
        buffers = []
        for name, buffer in module._buffers.items():
            persistent = name not in module._non_persistent_buffers_set
            node = None
            if buffer is not None:
                node = {"$tensor": self.add_array(buffer, buffer._data, child(name), where)}
            buffers.append([name, node, persistent])
        children = []
        for name, submodule in module._modules.items():
            node = None
            if submodule is not None:
                node = self.encode_module(submodule, child(name), f"{where}.{name}")
            children.append([name, node])
        attributes = []
        self.in_attributes += 1
        try:
            for name, value in module.__dict__.items():
                if name in internal:
                    continue
                attributes.append([name, self.encode(value, child(name), f"{where}.{name}")])
        finally:
            self.in_attributes -= 1
        hooks = [
            name
            for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")
            if getattr(module, name, None)
        ]
        if hooks:
            warnings.warn(
                f"ag.save: the hooks registered on {where} ({', '.join(hooks)}) are not saved; "
                "register them again after loading",
                UserWarning,
                stacklevel=4,
            )
        return {
            "$module": {
                "class": _import_path(type(module), where),
                "path": path,
                "training": bool(module.training),
                "parameters": parameters,
                "buffers": buffers,
                "modules": children,
                "attributes": attributes,
            }
        }

    def encode_key(self, key: Any, where: str) -> Any:
        if isinstance(key, (Tensor, np.ndarray)):
            raise TypeError(f"ag.save: dict keys can't be tensors or arrays (at {where})")
        return self.encode(key, "", where)


def _module_class() -> Any:
    """``nn.Module``, if the ``nn`` package has been imported (autograd never imports it)."""
    nn = sys.modules.get("nn")
    module_class = getattr(nn, "Module", None)
    return module_class if isinstance(module_class, type) else None


def _module_internal_keys() -> set[str]:
    """The attributes ``Module.__init__`` creates (registries, hooks, ``training``)."""
    module_class = _module_class()
    assert module_class is not None, "ag.save: nn is not imported"
    probe = module_class.__new__(module_class)
    module_class.__init__(probe)
    return set(probe.__dict__)


def _import_path(obj: Any, where: str) -> str:
    """``'package.module:Qual.Name'`` for a class or function that can be imported again."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        kind = "class" if isinstance(obj, type) else "function"
        raise TypeError(
            f"ag.save: can't save an object of type {type(obj).__module__}."
            f"{type(obj).__qualname__} at {where}: the {kind} {qualname or obj!r} is a lambda or "
            "is defined inside a function, so it can't be found again by its import path; "
            "define it at the top level of a module, or save the state_dict() instead"
        )
    return f"{module}:{qualname}"


def _crc32(arrays: dict[str, np.ndarray]) -> str:
    crc = 0
    for key in sorted(arrays):
        array = arrays[key]
        if array.size:
            crc = zlib.crc32(array.reshape(-1).view(np.uint8).data, crc)
    return f"{crc:08x}"


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


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file, fsync and ``os.replace``."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"ag.save: {path} is a directory; give a file name")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"ag.save: the folder {directory} does not exist")
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o666 & ~_current_umask()
    fd, tmp_path = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_path)
        raise
    # make the rename itself durable (best effort: not every platform can open a folder)
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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


class WeightsOnlyError(pickle.UnpicklingError, RuntimeError):
    """``ag.load(weights_only=True)`` met a saved module: building it would import code.

    A ``RuntimeError`` and, like PyTorch's error for the same case, a
    ``pickle.UnpicklingError`` (nothing is unpickled either way).

    Example:
        >>> import autograd as ag, io, nn
        >>> buffer = io.BytesIO()
        >>> ag.save(nn.Linear(2, 1), buffer)
        >>> try:
        ...     ag.load(io.BytesIO(buffer.getvalue()))
        ... except ag.serialization.WeightsOnlyError as error:
        ...     print(str(error)[:70])
        ag.load: <file object> holds a whole nn.Module (class nn.linear.Linear
    """


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str, weights_only: bool) -> None:
        self.arrays = arrays
        self.name = name
        self.weights_only = weights_only
        self.cache: dict[tuple[str, str], Any] = {}
        self.modules: dict[str, Any] = {}  # path -> rebuilt module, for $moduleref

    def corrupt(self, what: str) -> RuntimeError:
        return RuntimeError(f"ag.load: {self.name} is corrupt ({what})")

    def array(self, tag: str, key: Any) -> Any:
        if not isinstance(key, str) or key not in self.arrays:
            raise self.corrupt(f"the structure refers to a missing tensor {key!r}")
        cached = self.cache.get((tag, key))
        if cached is not None:
            return cached
        array = self.arrays[key]
        if tag == "$tensor":
            value: Any = Tensor._from_array(array)
        elif tag == "$ndarray":
            value = array
        else:
            value = array[()]
        self.cache[(tag, key)] = value
        return value

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict) or len(node) != 1:
            raise self.corrupt(f"unexpected structure node {str(node)[:80]}")
        ((tag, value),) = node.items()
        if tag == "$dict":
            if not isinstance(value, list) or not all(
                isinstance(item, list) and len(item) == 2 for item in value
            ):
                raise self.corrupt("a $dict entry is not a list of [key, value] pairs")
            result = {}
            for key, item in value:
                key = self.decode(key)
                if isinstance(key, list):
                    raise self.corrupt("a dict key is a list")
                result[key] = self.decode(item)
            return result
        if tag == "$tuple":
            if not isinstance(value, list):
                raise self.corrupt("a $tuple entry is not a list")
            return tuple(self.decode(item) for item in value)
        if tag == "$float":
            if value not in ("inf", "-inf", "nan"):
                raise self.corrupt(f"bad $float value {value!r}")
            return float(value)
        if tag == "$bytes":
            try:
                return base64.b64decode(value, validate=True)
            except (ValueError, TypeError):
                raise self.corrupt("a $bytes entry is not base64") from None
        if tag in ("$tensor", "$ndarray", "$scalar"):
            return self.array(tag, value)
        if tag == "$dtype":
            try:
                return np.dtype(value)
            except TypeError:
                raise self.corrupt(f"bad $dtype value {value!r}") from None
        if tag == "$device":
            return _Device(value)
        if tag in ("$set", "$frozenset"):
            if not isinstance(value, list):
                raise self.corrupt(f"a {tag} entry is not a list")
            items = [self.decode(item) for item in value]
            return set(items) if tag == "$set" else frozenset(items)
        if tag in ("$module", "$moduleref", "$global"):
            if self.weights_only:
                raise self.refuse(value if tag == "$module" else None)
            if tag == "$module":
                return self.module(value)
            if tag == "$moduleref":
                if value not in self.modules:
                    raise self.corrupt(f"a $moduleref to the unknown module path {value!r}")
                return self.modules[value]
            return _resolve(value, self.name, "an attribute")
        raise self.corrupt(f"unknown type tag {tag!r}")

    def refuse(self, spec: Any) -> WeightsOnlyError:
        what = "a whole nn.Module"
        if isinstance(spec, dict) and isinstance(spec.get("class"), str):
            what += f" (class {spec['class'].replace(':', '.')})"
        return WeightsOnlyError(
            f"ag.load: {self.name} holds {what}, which weights_only=True (the default) refuses: "
            "rebuilding it imports and runs the code its file names. If you trust the file, load "
            "it with ag.load(path, weights_only=False); otherwise save model.state_dict() and "
            "load it into a model built in code (model.load_state_dict(ag.load(path)))"
        )

    def module(self, spec: Any) -> Any:
        """Rebuild a saved module: its class (an importable nn.Module subclass), tensors,
        plain attributes and submodules. ``__init__`` is not run (its arguments are unknown)."""
        if not isinstance(spec, dict) or not {"class", "parameters", "buffers", "modules"} <= set(
            spec
        ):
            raise self.corrupt("a $module entry lacks class, parameters, buffers or modules")
        cls = _resolve(spec["class"], self.name, "a saved module")
        module_class = _module_class()
        if module_class is None or not isinstance(cls, type) or not issubclass(cls, module_class):
            raise TypeError(
                f"ag.load: {self.name} names {spec['class'].replace(':', '.')} as the class of a "
                "saved module, but it is not an nn.Module subclass; refusing to build it"
            )
        parameter_class = getattr(sys.modules.get("nn"), "Parameter", None)
        module: Any = cls.__new__(cls)  # type: ignore[call-overload]
        module_class.__init__(module)
        object.__setattr__(module, "training", bool(spec.get("training", True)))
        if isinstance(spec.get("path"), str):
            self.modules[spec["path"]] = module  # before its children: they may refer back
        for entry in spec["parameters"]:
            name, node, requires_grad, kind = entry
            if node is None:
                module._parameters[name] = None
                continue
            module._parameters[name] = self.parameter(node, requires_grad, kind, parameter_class)
        for name, node, persistent in spec["buffers"]:
            module._buffers[name] = None if node is None else self.decode(node)
            if not persistent:
                module._non_persistent_buffers_set.add(name)
        for name, node in spec["modules"]:
            module._modules[name] = None if node is None else self.decode(node)
        for name, node in spec.get("attributes", []):
            object.__setattr__(module, name, self.decode(node))
        return module

    def parameter(self, node: Any, requires_grad: bool, kind: Any, parameter_class: Any) -> Any:
        if not isinstance(node, dict) or "$tensor" not in node:
            raise self.corrupt("a parameter entry is not a tensor reference")
        key = node["$tensor"]
        cached = self.cache.get(("$tensor", key))
        if cached is not None and parameter_class is not None and isinstance(cached, parameter_class):
            return cached  # the same parameter in two places (tied weights)
        cls = _resolve(kind, self.name, "a saved parameter") if kind else parameter_class
        if parameter_class is None or not isinstance(cls, type) or not issubclass(
            cls, parameter_class
        ):
            raise TypeError(
                f"ag.load: {self.name} names {kind!r} as a parameter class, but it is not an "
                "nn.Parameter subclass; refusing to build it"
            )
        param = cls(self.array("$tensor", key), requires_grad=bool(requires_grad))
        self.cache[("$tensor", key)] = param
        return param


def _resolve(path: Any, file_name: str, what: str) -> Any:
    """Import ``'package.module:Qual.Name'`` (only with ``weights_only=False``)."""
    if not isinstance(path, str) or ":" not in path:
        raise RuntimeError(f"ag.load: {file_name} is corrupt (bad import path {path!r})")
    module_name, qualname = path.split(":", 1)
    dotted = f"{module_name}.{qualname}"
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"ag.load: can't find the class {dotted} of {what} in {file_name}: the module "
            f"{module_name!r} can't be imported ({error}). Make it importable (install it, or run "
            "from the folder that contains it; a class saved from a script is looked up in the "
            "__main__ of the loading script) and load again"
        ) from None
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            hint = "renamed or removed since the file was saved?"
            if module_name == "__main__":
                hint = (
                    "it was defined in the script that saved the file; define or import it in "
                    "the script that loads it, as PyTorch requires too"
                )
            raise AttributeError(
                f"ag.load: can't find the class {dotted} of {what} in {file_name}: the module "
                f"{module_name!r} has no attribute {qualname!r} ({hint})"
            ) from None
    return obj


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


def _read_bytes(f: PathLike | IO[bytes]) -> tuple[bytes, str]:
    if hasattr(f, "read"):
        return f.read(), getattr(f, "name", "<file object>")  # type: ignore[union-attr]
    path = os.fspath(f)  # type: ignore[arg-type]
    if os.path.isdir(path):
        raise IsADirectoryError(f"ag.load: {path} is a directory, not a file")
    with open(path, "rb") as handle:
        return handle.read(), path


def _foreign_hint(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return (
            "it is a zip archive, e.g. a torch.save checkpoint; ag.load reads only safetensors "
            "files and never unpickles. Convert it in PyTorch with "
            "safetensors.torch.save_file(torch.load(path), new_path)"
        )
    if data[:1] == b"\x80":
        return "it looks like a pickle; ag.load reads only safetensors files and never unpickles"
    return "a safetensors file starts with an 8-byte little-endian header size, then JSON"


def _parse_header(data: bytes, name: str) -> tuple[dict[str, Any], int]:
    """Validate the safetensors framing; return the header and the offset of the data section."""
    if len(data) == 0:
        raise RuntimeError(f"ag.load: {name} is empty (0 bytes); it was never written completely")
    if len(data) < 8:
        raise RuntimeError(
            f"ag.load: {name} is not a safetensors file or is truncated (only {len(data)} bytes; "
            f"{_foreign_hint(data)})"
        )
    (header_size,) = struct.unpack("<Q", data[:8])
    looks_like_json = data[8:9] == b"{"
    if header_size > _MAX_HEADER or not looks_like_json:
        raise RuntimeError(f"ag.load: {name} is not a safetensors file ({_foreign_hint(data)})")
    if 8 + header_size > len(data):
        raise RuntimeError(
            f"ag.load: {name} is truncated (header says the header is {header_size} bytes, the "
            f"file has {len(data) - 8} after the size field)"
        )
    try:
        header = json.loads(data[8 : 8 + header_size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RuntimeError(
            f"ag.load: {name} is corrupt (the header is not valid JSON: {error})"
        ) from None
    if not isinstance(header, dict):
        raise RuntimeError(f"ag.load: {name} is corrupt (the header is not a JSON object)")
    start = 8 + header_size
    data_size = len(data) - start
    end_of_data = 0
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise RuntimeError(
                    f"ag.load: {name} is corrupt (__metadata__ is not a str->str map)"
                )
            continue
        try:
            dtype = _DTYPES[info["dtype"]]
            shape = [int(n) for n in info["shape"]]
            begin, end = (int(n) for n in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise RuntimeError(
                f"ag.load: {name} is corrupt or uses an unsupported dtype (tensor {key!r}: "
                f"{str(info)[:120]})"
            ) from None
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if min(shape, default=0) < 0 or begin < 0 or end - begin != expected:
            raise RuntimeError(
                f"ag.load: {name} is corrupt (tensor {key!r} of shape {tuple(shape)} and dtype "
                f"{dtype} needs {expected} bytes, the header gives offsets [{begin}, {end}])"
            )
        end_of_data = max(end_of_data, end)
    if end_of_data > data_size:
        raise RuntimeError(
            f"ag.load: {name} is truncated (header says {end_of_data} bytes of data, file has "
            f"{data_size})"
        )
    return header, start


def load(
    f: PathLike | IO[bytes], map_location: Any = None, *, weights_only: bool = True, **kwargs: Any
) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) from a path or binary file object.

    Tensors come back with ``requires_grad=False`` and their saved dtype. A truncated, corrupt or
    foreign file raises ``RuntimeError`` naming the file and the problem; nothing in the file is
    ever executed or unpickled.

    ``weights_only=True`` (the default, as in PyTorch >= 2.6) returns tensors and plain
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
