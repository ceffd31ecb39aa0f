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

The ``__metadata__`` entries (all strings, as the format requires):

``format``
    ``"pt"``, so tools that check the framework tag accept the file.
``graphgrad.version``
    ``"1"``, the container version.
``graphgrad.tree``
    The object as JSON. JSON null, booleans, integers, finite floats and strings stand for
    themselves; every other value is a one-key JSON object whose key is a type tag:
    ``{"$dict": [[key, value], ...]}`` (insertion order kept, keys encoded like values),
    ``{"$tuple": [...]}``, ``{"$float": "inf" | "-inf" | "nan"}``, ``{"$bytes": "<base64>"}``,
    ``{"$tensor": "<tensor key>"}`` (loads as a Tensor with ``requires_grad=False``),
    ``{"$ndarray": "<tensor key>"}`` and ``{"$scalar": "<tensor key>"}`` (a NumPy scalar kept
    as a 0-d entry). A tensor object that occurs twice refers to one key, so sharing survives.
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
import json
import math
import os
import struct
import tempfile
import zlib
from typing import IO, Any, Union

import numpy as np
import safetensors
import safetensors.numpy

from .tensor import Tensor

PathLike = Union[str, "os.PathLike[str]"]

FORMAT_VERSION = "1"
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
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = f"; save its state_dict() instead ({type(obj).__name__}.state_dict())"
        raise TypeError(
            f"ag.save: can't save an object of type {type(obj).__module__}.{type(obj).__qualname__}"
            f" at {where}; ag.save stores Tensors, NumPy arrays and scalars, dicts, lists, tuples, "
            f"str, bytes, int, float, bool and None{hint}"
        )

    def encode_key(self, key: Any, where: str) -> Any:
        if isinstance(key, (Tensor, np.ndarray)):
            raise TypeError(f"ag.save: dict keys can't be tensors or arrays (at {where})")
        return self.encode(key, "", where)


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
        _VERSION_KEY: FORMAT_VERSION,
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
    """Save a state dict or checkpoint to ``f`` (a path, or a binary file object) as safetensors.

    A flat ``{name: Tensor}`` dict is readable by ``safetensors.torch.load_file``; nested
    objects (optimizer state dicts, checkpoints) round-trip exactly through :func:`load`. Writing
    to a path is atomic: a failure leaves the previous file intact. See the module docstring for
    the format.

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


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray], name: str) -> None:
        self.arrays = arrays
        self.name = name
        self.cache: dict[tuple[str, str], Any] = {}

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
        raise self.corrupt(f"unknown type tag {tag!r}")


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


def load(f: PathLike | IO[bytes]) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) from a path or binary file object.

    Tensors come back with ``requires_grad=False`` and their saved dtype. A truncated, corrupt or
    foreign file raises ``RuntimeError`` naming the file and the problem; nothing in the file is
    ever executed.
    """
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
    if version != FORMAT_VERSION:
        raise RuntimeError(
            f"ag.load: {name} uses graphgrad container version {version!r}, this graphgrad "
            f"reads version {FORMAT_VERSION!r}; upgrade graphgrad"
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
    return _Decoder(arrays, name).decode(tree)
