"""The object codec of ``ag.save``/``ag.load``: an object (state dict, checkpoint, whole
``nn.Module``) to a JSON tree plus a table of arrays, and back; nothing is ever unpickled.
"""

from __future__ import annotations

import base64
import importlib
import math
import pickle
import sys
import types
import warnings
from typing import Any

import numpy as np

from ._serial_file import _SUPPORTED
from .device import device as _Device
from .tensor import Tensor


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
            kind = _parameter_path(type(param), f"{where}.{name}")
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


def _parameter_path(cls: type, where: str) -> str:
    """``nn.Parameter`` by its public name, valid wherever the class is defined (files saved
    before it moved to ``nn.parameter`` name ``nn.module:Parameter``, which still imports);
    a subclass by its import path."""
    if cls is getattr(sys.modules.get("nn"), "Parameter", None):
        return "nn:Parameter"
    return _import_path(cls, where)


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


# users meet it as ag.serialization.WeightsOnlyError (its public home): tracebacks say so
WeightsOnlyError.__module__ = "autograd.serialization"


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
