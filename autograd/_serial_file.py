"""The safetensors file layer under ``ag.save``/``ag.load``: the dtype table, the graphgrad
metadata keys, the CRC of the tensor bytes, atomic writes and the checks of a file's framing.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import tempfile
import zlib
from typing import IO, Any, Union

import numpy as np

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


def _crc32(arrays: dict[str, np.ndarray]) -> str:
    crc = 0
    for key in sorted(arrays):
        array = arrays[key]
        if array.size:
            crc = zlib.crc32(array.reshape(-1).view(np.uint8).data, crc)
    return f"{crc:08x}"


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
