"""Image-classification datasets in the IDX format: FashionMNIST and MNIST, and the IDX reader.

Files are looked for locally (the given root only; without one, Debian's ``dataset-fashion-mnist``
package, then a user cache), so no network is needed where the data ships with the system;
``download=True`` fetches missing files (into the root, or the cache) with checksum verification.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.data import Dataset, TensorDataset

__all__ = [
    "MNIST",
    "FashionMNIST",
    "read_idx",
    "write_idx",
    "load_split",
    "cache_dir",
    "download_file",
]

PathLike = str | os.PathLike

# IDX type codes (the third magic byte) and the big-endian dtypes they stand for.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

# The opener used for downloads; a module attribute so tests can serve bytes without a network.
_urlopen: Callable[..., Any] = urllib.request.urlopen


def _read_exact(stream: Any, size: int) -> bytes:
    data = stream.read(size)
    return data if data is not None else b""


def read_idx(path: PathLike, *, ndim: int | None = None, dtype: Any = None) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected by its magic bytes) into an array.

    The header is validated: two zero bytes, a known type code, the number of dimensions (checked
    against ``ndim`` and the type against ``dtype`` when given), then one big-endian uint32 per
    dimension; the data must hold exactly as many bytes as the dimensions say. Any mismatch raises
    a RuntimeError naming the file and what is wrong.

    Returns:
        A read-only array in native byte order (copy it to modify it).

    Example:
        >>> import numpy as np, tempfile, os
        >>> from graphgrad.datasets import read_idx, write_idx
        >>> path = os.path.join(tempfile.mkdtemp(), "x-idx2-ubyte.gz")
        >>> write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
        >>> read_idx(path, ndim=2)
        array([[0, 1, 2],
               [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"read_idx: {path}: no such file") from None
    with handle:
        compressed = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        stream: Any = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else handle
        try:
            return _parse_idx(stream, path, compressed, ndim, dtype)
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise RuntimeError(
                f"read_idx: {path}: the gzip stream is truncated or corrupt ({error}); "
                "delete the file and get it again"
            ) from None


def _parse_idx(
    stream: Any, path: Path, compressed: bool, ndim: int | None, dtype: Any
) -> np.ndarray:
    header = _read_exact(stream, 4)
    if len(header) < 4:
        raise RuntimeError(
            f"read_idx: {path}: the file is too short for an IDX header ({len(header)} bytes); "
            "it is empty or truncated"
        )
    magic = struct.unpack(">I", header)[0]
    zero, type_code, dims_count = struct.unpack(">HBB", header)
    expected_magic = f"0x{0x0800 | ndim:08x}" if ndim is not None else "0x00000800 + number of dims"
    if zero != 0 or type_code not in IDX_DTYPES:
        raise RuntimeError(
            f"read_idx: {path}: bad magic number 0x{magic:08x} (expected {expected_magic}: two "
            "zero bytes, a type code, the number of dimensions); this is not an IDX file"
        )
    if ndim is not None and dims_count != ndim:
        raise RuntimeError(
            f"read_idx: {path}: magic number 0x{magic:08x} says {dims_count} dimensions, expected "
            f"{ndim} (magic {expected_magic}); is it the wrong file (images vs labels)?"
        )
    file_dtype = IDX_DTYPES[type_code]
    if dtype is not None and file_dtype.newbyteorder("=") != np.dtype(dtype).newbyteorder("="):
        raise RuntimeError(
            f"read_idx: {path}: type code 0x{type_code:02x} means {file_dtype}, expected "
            f"{np.dtype(dtype)}"
        )
    dims_bytes = _read_exact(stream, 4 * dims_count)
    if len(dims_bytes) < 4 * dims_count:
        raise RuntimeError(
            f"read_idx: {path}: the header is truncated (needs {dims_count} dimension sizes, "
            f"found {len(dims_bytes) // 4})"
        )
    shape = struct.unpack(f">{dims_count}I", dims_bytes)
    expected = int(np.prod(shape, dtype=np.int64)) * file_dtype.itemsize
    if compressed:
        data = stream.read()
        got = len(data)
    else:
        got = os.fstat(stream.fileno()).st_size - 4 - 4 * dims_count
        data = stream.read(expected) if got == expected else b""
    if got != expected:
        what = "truncated" if got < expected else "longer than its header says"
        raise RuntimeError(
            f"read_idx: {path}: the file is {what}: the header's shape {shape} of {file_dtype} "
            f"needs {expected} data bytes, the file holds {got}; delete it and get it again"
        )
    array = np.frombuffer(data, dtype=file_dtype).reshape(shape)
    if file_dtype.byteorder == ">":
        array = array.astype(file_dtype.newbyteorder("="))
    array.flags.writeable = False
    return array


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when ``path`` ends in ``.gz``), atomically.

    Example:
        >>> import numpy as np, tempfile, os
        >>> from graphgrad.datasets import read_idx, write_idx
        >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
        >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
        >>> read_idx(path).tolist()
        [3, 1, 4]
    """
    array = np.asarray(array)
    codes = {d.newbyteorder("="): code for code, d in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(
            f"write_idx: dtype {array.dtype} has no IDX type code ({sorted(map(str, codes))})"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"write_idx: IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(">HBB", 0, codes[native], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=native.newbyteorder(">")).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    _write_atomic(Path(path), payload)


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir(name: str) -> Path:
    """Return the user cache folder for a dataset: ``$GRAPHGRAD_DATA/<name>`` if that variable is
    set, else ``$XDG_CACHE_HOME/graphgrad/<name>``, else ``~/.cache/graphgrad/<name>``."""
    if os.environ.get("GRAPHGRAD_DATA"):
        return Path(os.environ["GRAPHGRAD_DATA"]).expanduser() / name
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "graphgrad" / name


def download_file(
    urls: Sequence[str],
    destination: PathLike,
    md5: str,
    *,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download the first of ``urls`` that answers to ``destination``, checking its MD5.

    The bytes go to a temporary file beside ``destination`` that replaces it only once the
    checksum matches, so an interrupted or corrupt download never leaves a partial file. A tqdm
    progress bar shows the transfer unless ``progress=False``. Raises RuntimeError listing every
    URL's failure when none worked.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
        )
        try:
            digest = _fetch(url, fd, destination.name, progress, timeout)
        except Exception as error:  # network errors of every kind: try the next mirror
            Path(tmp).unlink(missing_ok=True)
            failures.append(f"{url}: {type(error).__name__}: {error}")
            continue
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if digest != md5:
            Path(tmp).unlink(missing_ok=True)
            failures.append(f"{url}: checksum mismatch (MD5 {digest}, expected {md5})")
            continue
        os.replace(tmp, destination)
        return destination
    raise RuntimeError(f"download of {destination.name} failed: " + "; ".join(failures))


def _fetch(url: str, fd: int, label: str, progress: bool, timeout: float) -> str:
    from tqdm.auto import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "graphgrad"})
    md5 = hashlib.md5()
    with os.fdopen(fd, "wb") as out, _urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        total = int(length) if length and str(length).isdigit() else None
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=label,
            disable=not progress,
            leave=True,
        ) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                md5.update(chunk)
                bar.update(len(chunk))
    return md5.hexdigest()


def _to_float(images: np.ndarray) -> np.ndarray:
    # Same values as torchvision's ToTensor (float, then divide by 255), in one allocation.
    out = np.empty(images.shape, dtype=np.float32)
    return np.divide(images, np.float32(255), out=out, dtype=np.float32)


def _batch_index(indices: Any, length: int, name: str) -> np.ndarray:
    """Return ``indices`` as a 1-D int64 array within ``[0, length)`` (negatives wrap)."""
    array = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(
            f"{name}: indices must be a 1-D sequence of ints, got {array.dtype} of shape "
            f"{array.shape}"
        )
    if array.min() < -length or array.max() >= length:
        bad = array[(array < -length) | (array >= length)][0]
        raise IndexError(
            f"{name}: index {int(bad)} is out of range for a dataset of length {length}"
        )
    return np.where(array < 0, array + length, array).astype(np.int64, copy=False)


# Decoded files, per process: (path, size, mtime) -> read-only arrays shared by every instance.
_DECODED: dict[tuple, np.ndarray] = {}
_NORMALISED: dict[tuple, np.ndarray] = {}


def _file_key(path: Path) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _read_cached(path: Path, ndim: int) -> tuple[np.ndarray, tuple]:
    key = _file_key(path)
    if key not in _DECODED:
        _DECODED[key] = read_idx(path, ndim=ndim, dtype=np.uint8)
    return _DECODED[key], key


class MNIST(Dataset):
    """The MNIST handwritten digits (IDX files), found locally or downloaded on request.

    Files are looked for in this order, the first folder holding both files of the split wins:
    ``root`` and ``root/MNIST/raw`` (torchvision's layout) when ``root`` is given (and only
    there: a root named explicitly never falls back to another copy), else the system folders
    (Debian's package for Fashion-MNIST), then the user cache (``cache_dir``). Each may hold
    ``*-ubyte`` or ``*-ubyte.gz`` files. ``download=True`` fetches the four files when the split is not found,
    into ``root/<Name>/raw`` if ``root`` is given, else into the cache, checking their MD5.

    Sample ``i`` is ``(image, label)``: a float32 Tensor ``(1, 28, 28)`` in ``[0, 1]`` (passed
    through ``transform`` if given) and an int (through ``target_transform``). ``data`` holds
    the raw uint8 images ``(N, 28, 28)`` and ``targets`` the int64 labels, both read-only and
    shared between instances. Without transforms a DataLoader fetches whole batches at once.

    Args:
        root: the folder holding the files (None: the system folders and the cache); it must
            exist unless ``download`` is set.
        train: the 60,000-image training split (True) or the 10,000-image test split.
        transform: applied to each image Tensor by ``__getitem__``.
        target_transform: applied to each int label by ``__getitem__``.
        download: fetch the files when no local copy is found.
    """

    name: ClassVar[str] = "MNIST"
    slug: ClassVar[str] = "mnist"
    system_dirs: ClassVar[tuple[str, ...]] = ()
    debian_package: ClassVar[str | None] = None
    mirrors: ClassVar[tuple[str, ...]] = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources: ClassVar[tuple[tuple[str, str], ...]] = (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    )
    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip
    image_size: ClassVar[tuple[int, int]] = (28, 28)

    def __init__(
        self,
        root: PathLike | None = None,
        train: bool = True,
        transform: Callable[[Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        download: bool = False,
    ) -> None:
        self.root = None if root is None else Path(root).expanduser()
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        if self.root is not None and not self.root.is_dir() and not download:
            # a mistyped root must not fall back silently to another copy of the data
            kind = "is not a folder" if self.root.exists() else "does not exist"
            raise RuntimeError(
                f"{self.name}: root {self.root} {kind}; pass the folder holding the IDX files, "
                "root=None to use the system copy or the cache, or download=True to download "
                "into it"
            )
        found = self._find()
        if found is None and download:
            self.download()
            found = self._find()
        if found is None:
            raise RuntimeError(self._not_found_message(download))
        self.folder, images_path, labels_path = found
        self.data, self._images_key = _read_cached(images_path, ndim=3)
        labels, _ = _read_cached(labels_path, ndim=1)
        self._check(images_path, labels_path, labels)
        self.targets: np.ndarray = labels.astype(np.int64)
        self.targets.flags.writeable = False

    @property
    def split(self) -> str:
        """``"train"`` or ``"test"``."""
        return "train" if self.train else "test"

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Map each class name to its label."""
        return {name: i for i, name in enumerate(self.classes)}

    @classmethod
    def _file_names(cls, train: bool) -> tuple[str, str]:
        prefix = "train" if train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def search_dirs(self) -> list[Path]:
        """Return the folders searched for the files, in order."""
        if self.root is not None:
            return [self.root, self.root / self.name / "raw"]
        return [*(Path(d) for d in self.system_dirs), cache_dir(self.slug)]

    def download_dir(self) -> Path:
        """Return the folder ``download()`` writes to: ``root/<Name>/raw``, or the cache."""
        return self.root / self.name / "raw" if self.root is not None else cache_dir(self.slug)

    def _find(self) -> tuple[Path, Path, Path] | None:
        for folder in self.search_dirs():
            # the raw file reads faster; the .gz is what mirrors and Debian ship
            images, labels = (
                next((folder / n for n in (base, base + ".gz") if (folder / n).is_file()), None)
                for base in self._file_names(self.train)
            )
            if images is not None and labels is not None:
                return folder, images, labels
        return None

    def _not_found_message(self, download: bool) -> str:
        images, labels = self._file_names(self.train)
        where = ", ".join(str(d) for d in self.search_dirs())
        fixes = []
        if self.root is not None:
            fixes.append("pass root=None to use the system copy or the cache")
        elif self.debian_package:
            fixes.append(f"install Debian's copy with `apt-get install {self.debian_package}`")
        if download:
            fixes.append("check the network (the download failed)")
        else:
            fixes.append(f"pass download=True to download it into {self.download_dir()}")
        fixes.append(f"or copy the four IDX files into {self.download_dir()}")
        return (
            f"{self.name}: the {self.split} split was not found (looked for {images}[.gz] and "
            f"{labels}[.gz] in: {where}); " + ", ".join(fixes)
        )

    def _check(self, images_path: Path, labels_path: Path, labels: np.ndarray) -> None:
        if self.data.shape[1:] != self.image_size:
            raise RuntimeError(
                f"{self.name}: {images_path}: images are {self.data.shape[1:]}, expected "
                f"{self.image_size}; the file is not a {self.name} images file"
            )
        if len(labels) != len(self.data):
            raise RuntimeError(
                f"{self.name}: {labels_path} holds {len(labels)} labels but {images_path} holds "
                f"{len(self.data)} images; the two files do not belong together"
            )
        if labels.size and labels.max() >= len(self.classes):
            raise RuntimeError(
                f"{self.name}: {labels_path}: label {int(labels.max())} is out of range "
                f"0..{len(self.classes) - 1}; the file is corrupt"
            )

    def download(self) -> None:
        """Download the four IDX files into ``download_dir()`` unless the split is already there.

        Each file is checked against its MD5 and written atomically.
        """
        if self._find() is not None:
            return
        target = self.download_dir()
        for file_name, md5 in self.resources:
            if (target / file_name).is_file():
                continue
            try:
                download_file([m + file_name for m in self.mirrors], target / file_name, md5)
            except RuntimeError as error:
                hint = (
                    f"; without network, install Debian's copy (apt-get install {self.debian_package})"
                    if self.debian_package
                    else ""
                )
                raise RuntimeError(
                    f"{self.name}: {error}{hint}, or copy the four IDX files into {target}"
                ) from None

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = ag.from_numpy(_to_float(self.data[index])[None])
        target: Any = int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Any:
        """Return ``[images (B, 1, 28, 28) float32, labels (B,) int64]`` for ``indices`` at once.

        With a ``transform`` or ``target_transform`` set, samples are fetched one by one instead.
        """
        if self.transform is not None or self.target_transform is not None:
            return super().get_batch(indices)
        index = _batch_index(indices, len(self), self.name)
        images = _to_float(self.data[index])[:, None]
        return [ag.from_numpy(images), ag.from_numpy(self.targets[index])]

    def arrays(self, flatten: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return the whole split as ``(images, labels)`` arrays, images float32 in ``[0, 1]``.

        The float images are computed once per process and shared (read-only).

        Shape: images ``(N, 1, 28, 28)``, or ``(N, 784)`` with ``flatten=True``; labels ``(N,)``.
        """
        if self._images_key not in _NORMALISED:
            images = _to_float(self.data)[:, None]
            images.flags.writeable = False
            _NORMALISED[self._images_key] = images
        images = _NORMALISED[self._images_key]
        return (images.reshape(len(images), -1) if flatten else images), self.targets

    def tensors(self, flatten: bool = False) -> tuple[Tensor, Tensor]:
        """Return ``arrays(flatten)`` as Tensors (no copy)."""
        images, labels = self.arrays(flatten)
        return ag.from_numpy(images), ag.from_numpy(labels)

    def tensor_dataset(self, flatten: bool = False) -> TensorDataset:
        """Return the split as a ``TensorDataset(images, labels)`` (transforms are not applied)."""
        return TensorDataset(*self.tensors(flatten))

    def __repr__(self) -> str:
        lines = [
            f"Dataset {self.name}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.folder}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing, in MNIST's format.

    Debian's package ``dataset-fashion-mnist`` installs the files in
    ``/usr/share/datasets/fashion-mnist``, which is searched after ``root``. See ``MNIST`` for
    the arguments, the search order and the sample format.

    Example:
        >>> from graphgrad.datasets import FashionMNIST
        >>> test = FashionMNIST(train=False)
        >>> len(test), test.classes[test.targets[0]]
        (10000, 'Ankle boot')
    """

    name: ClassVar[str] = "FashionMNIST"
    slug: ClassVar[str] = "fashion-mnist"
    system_dirs: ClassVar[tuple[str, ...]] = ("/usr/share/datasets/fashion-mnist",)
    debian_package: ClassVar[str | None] = "dataset-fashion-mnist"
    mirrors: ClassVar[tuple[str, ...]] = (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    )
    resources: ClassVar[tuple[tuple[str, str], ...]] = (
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    )
    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


DATASETS: dict[str, type[MNIST]] = {
    "fashion-mnist": FashionMNIST,
    "fashionmnist": FashionMNIST,
    "mnist": MNIST,
}


def load_split(
    dataset: str = "fashion-mnist",
    train: bool = True,
    root: PathLike | None = None,
    download: bool = False,
    flatten: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a whole split as ``(images float32 in [0, 1], labels int64)`` arrays, fast.

    Decoded files and the float images are cached per process, so a second call is free. The
    arrays are read-only and shared: copy them to modify them in place.

    Shape: images ``(N, 1, 28, 28)``, or ``(N, 784)`` with ``flatten=True``; labels ``(N,)``.

    Example:
        >>> from graphgrad.datasets import load_split
        >>> x, y = load_split("fashion-mnist", train=False)
        >>> x.shape, x.dtype, y.shape
        ((10000, 1, 28, 28), dtype('float32'), (10000,))
    """
    key = dataset.lower().replace("_", "-")
    if key not in DATASETS:
        raise ValueError(
            f"load_split: unknown dataset {dataset!r}; choose one of {sorted(set(DATASETS))}"
        )
    return DATASETS[key](root=root, train=train, download=download).arrays(flatten=flatten)
