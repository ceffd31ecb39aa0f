"""graphgrad.datasets: the IDX reader, MNIST/FashionMNIST search order, downloads (served locally)."""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
from autograd.data import DataLoader
from graphgrad import datasets
from graphgrad.datasets import MNIST, FashionMNIST, load_split, read_idx, write_idx

from parity import import_torch

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_bytes(
    array: np.ndarray, type_code: int = 0x08, ndim: int | None = None, zero: int = 0
) -> bytes:
    """Encode an IDX file by hand (independent of write_idx), with optional bad header fields."""
    ndim = array.ndim if ndim is None else ndim
    header = struct.pack(">HBB", zero, type_code, ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def make_split(folder: Path, split: str, n: int, *, gz: bool = True, seed: int = 0, size=(28, 28)):
    """Write a small images+labels pair and return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, *size), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    for name, array in zip(FILES[split], (images, labels)):
        payload = idx_bytes(array)
        (folder / (name + suffix)).write_bytes(gzip.compress(payload) if gz else payload)
    return images, labels


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No system folder, and an empty cache in tmp: only what the test writes is found."""
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    monkeypatch.setattr(MNIST, "system_dirs", ())
    monkeypatch.setenv("GRAPHGRAD_DATA", str(tmp_path / "cache"))
    return tmp_path


# the IDX reader


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize(
    "dtype, code",
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_read_idx_roundtrip(tmp_path, gz, dtype, code):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    payload = idx_bytes(array, type_code=code)
    path = tmp_path / "x-idx3"  # no .gz suffix even when compressed: detection is by magic bytes
    path.write_bytes(gzip.compress(payload) if gz else payload)
    out = read_idx(path, ndim=3)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    assert not out.flags.writeable


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_idx_roundtrip(tmp_path, suffix):
    array = np.arange(12, dtype=np.int32).reshape(3, 4)
    path = tmp_path / f"w-idx2{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    np.testing.assert_array_equal(read_idx(path), array)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file left"
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "bad", np.zeros(2, dtype=np.complex64))


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_errors_name_the_file(tmp_path, gz):
    def write(name, payload):
        path = tmp_path / name
        path.write_bytes(gzip.compress(payload) if gz else payload)
        return path

    good = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = write("magic", b"\x01\x02" + good[2:])
    with pytest.raises(
        RuntimeError, match=rf"{path}: bad magic number 0x01020803 .*not an IDX file"
    ):
        read_idx(path)
    path = write("code", idx_bytes(np.zeros(3, np.uint8), type_code=0x07))
    with pytest.raises(RuntimeError, match="bad magic number 0x00000701"):
        read_idx(path)
    path = write("dims", good)
    with pytest.raises(
        RuntimeError, match=rf"{path}: magic number 0x00000803 says 3 dimensions, expected 1"
    ):
        read_idx(path, ndim=1)
    path = write("dtype", idx_bytes(np.zeros(3, np.float32), type_code=0x0D))
    with pytest.raises(RuntimeError, match="type code 0x0d means >f4, expected uint8"):
        read_idx(path, dtype=np.uint8)
    path = write("truncated", good[:-100])
    with pytest.raises(
        RuntimeError,
        match=rf"{path}: the file is truncated: .*\(4, 28, 28\).* needs 3136 data bytes, the file holds 3036",
    ):
        read_idx(path)
    path = write("long", good + b"\0")
    with pytest.raises(RuntimeError, match="longer than its header says"):
        read_idx(path)
    path = write("header", good[:10])
    with pytest.raises(RuntimeError, match="header is truncated"):
        read_idx(path)
    path = write("empty", b"")
    with pytest.raises(RuntimeError, match="too short for an IDX header"):
        read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(5000, dtype=np.int32) * 7919))
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match=rf"{cut}: the gzip stream is truncated or corrupt"):
        read_idx(cut)
    flipped = bytearray(data)
    flipped[-6] ^= 0xFF  # the CRC32/size trailer: the stream decodes but fails its check
    bad = tmp_path / "crc.gz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(RuntimeError, match=rf"{bad}: the gzip stream is truncated or corrupt"):
        read_idx(bad)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_idx(tmp_path / "missing")


# loading from a folder


@pytest.mark.parametrize("gz", [False, True])
def test_fashion_mnist_from_root(isolated, gz):
    images, labels = make_split(isolated / "data", "train", 12, gz=gz)
    make_split(isolated / "data", "test", 5, gz=gz, seed=1)
    ds = FashionMNIST(root=isolated / "data")
    assert len(ds) == 12 and ds.folder == isolated / "data" and ds.split == "train"
    assert ds.data.dtype == np.uint8 and ds.data.shape == (12, 28, 28)
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    image, label = ds[3]
    assert isinstance(image, ag.Tensor) and image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_allclose(image.numpy()[0], images[3] / 255.0, rtol=1e-6)
    assert isinstance(label, int) and label == labels[3]
    assert ds.classes[0] == "T-shirt/top" and ds.class_to_idx["Ankle boot"] == 9
    assert "Number of datapoints: 12" in repr(ds) and "Split: Train" in repr(ds)
    test = FashionMNIST(root=isolated / "data", train=False)
    assert len(test) == 5 and "Split: Test" in repr(test)


def test_values_match_torch_to_tensor_rounding(isolated):
    torch = import_torch()
    make_split(isolated / "data", "train", 12)
    ds = FashionMNIST(root=isolated / "data")
    expected = torch.from_numpy(np.array(ds.data)).float().div(255).numpy()
    np.testing.assert_array_equal(ds.arrays()[0][:, 0], expected)
    np.testing.assert_array_equal(ds[7][0].numpy()[0], expected[7])


def test_torchvision_layout_and_transforms(isolated):
    make_split(isolated / "data" / "MNIST" / "raw", "test", 6, gz=False)
    ds = MNIST(
        root=isolated / "data",
        train=False,
        transform=lambda t: t * 2 - 1,
        target_transform=lambda y: y + 100,
    )
    assert ds.folder == isolated / "data" / "MNIST" / "raw"
    image, label = ds[0]
    assert float(image.numpy().min()) >= -1 and label >= 100
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))  # transforms: per-sample path
    np.testing.assert_allclose(xb.numpy(), np.stack([ds[i][0].numpy() for i in range(4)]))
    np.testing.assert_array_equal(yb.numpy(), ds.targets[:4] + 100)


def test_batches_are_vectorised_and_equal_per_sample(isolated, monkeypatch):
    make_split(isolated / "data", "train", 20)
    ds = FashionMNIST(root=isolated / "data")
    index = [5, 0, 19, 7]
    xb, yb = ds.get_batch(index)
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.numpy(), np.stack([ds[i][0].numpy() for i in index]))
    np.testing.assert_array_equal(yb.numpy(), [ds[i][1] for i in index])
    monkeypatch.setattr(FashionMNIST, "__getitem__", lambda self, i: 1 / 0)
    ag.manual_seed(0)
    batches = list(DataLoader(ds, batch_size=8, shuffle=True))
    assert [len(b[1]) for b in batches] == [8, 8, 4]
    assert sorted(np.concatenate([b[1].numpy() for b in batches]).tolist()) == sorted(
        ds.targets.tolist()
    )


def test_whole_split_arrays_are_cached(isolated):
    make_split(isolated / "data", "train", 10)
    ds = FashionMNIST(root=isolated / "data")
    x, y = ds.arrays()
    assert x.shape == (10, 1, 28, 28) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert not x.flags.writeable
    again = FashionMNIST(root=isolated / "data")
    assert again.data is ds.data, "decoded once per process"
    assert again.arrays()[0] is x
    flat, _ = load_split("fashion-mnist", root=isolated / "data", flatten=True)
    assert flat.shape == (10, 784) and np.shares_memory(flat, x)
    tx, ty = ds.tensors()
    assert tx.numpy() is x and ty.dtype == np.int64
    td = ds.tensor_dataset(flatten=True)
    assert len(td) == 10 and td[0][0].shape == (784,)
    # a tensor over the cached read-only array copies on an in-place change
    tx.mul_(2.0)
    assert float(x.max()) <= 1.0
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        load_split("cifar")


def test_cache_notices_a_changed_file(isolated):
    make_split(isolated / "data", "train", 10)
    first = FashionMNIST(root=isolated / "data")
    make_split(isolated / "data", "train", 14, seed=3)
    second = FashionMNIST(root=isolated / "data")
    assert len(first) == 10 and len(second) == 14


def test_inconsistent_files(isolated):
    root = isolated / "data"
    make_split(root, "train", 10, size=(27, 28))
    with pytest.raises(RuntimeError, match=r"images are \(27, 28\), expected \(28, 28\)"):
        FashionMNIST(root=root)
    make_split(root, "train", 10)
    (root / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(9, np.uint8)))
    )
    with pytest.raises(RuntimeError, match="holds 9 labels but .* holds 10 images"):
        FashionMNIST(root=root)
    (root / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.full(10, 10, np.uint8)))
    )
    with pytest.raises(RuntimeError, match="label 10 is out of range 0..9"):
        FashionMNIST(root=root)
    # images and labels swapped: the magic numbers disagree with what was expected
    (root / "train-labels-idx1-ubyte.gz").write_bytes(
        (root / "train-images-idx3-ubyte.gz").read_bytes()
    )
    with pytest.raises(
        RuntimeError, match="train-labels-idx1-ubyte.gz: magic number 0x00000803 says 3 dimensions"
    ):
        FashionMNIST(root=root)
    raw = root / "train-images-idx3-ubyte"
    raw.write_bytes(idx_bytes(np.zeros((10, 28, 28), np.uint8))[:-1])  # the raw file wins over .gz
    with pytest.raises(RuntimeError, match=f"{raw}: the file is truncated"):
        FashionMNIST(root=root)


# search order


def test_search_order(isolated, monkeypatch):
    system = isolated / "system"
    cache = isolated / "cache" / "fashion-mnist"
    root = isolated / "root"
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(system),))
    make_split(cache, "test", 3)
    assert FashionMNIST(train=False).folder == cache
    make_split(system, "test", 4)
    assert FashionMNIST(train=False).folder == system
    root.mkdir()
    with pytest.raises(RuntimeError, match=f"the test split was not found .* in: {root}, "):
        FashionMNIST(root=root, train=False)  # a root given is the only place looked in
    make_split(root / "FashionMNIST" / "raw", "test", 5)
    assert FashionMNIST(root=root, train=False).folder == root / "FashionMNIST" / "raw"
    make_split(root, "test", 6)
    ds = FashionMNIST(root=root, train=False)
    assert ds.folder == root and len(ds) == 6
    assert ds.search_dirs() == [root, root / "FashionMNIST" / "raw"]
    assert FashionMNIST(train=False).search_dirs() == [system, cache]
    # a folder with half a split (labels only) is not the split
    (isolated / "half").mkdir()
    (isolated / "half" / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(RuntimeError, match="the test split was not found"):
        FashionMNIST(root=isolated / "half", train=False)


def test_cache_dir_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHGRAD_DATA", str(tmp_path / "g"))
    assert datasets.cache_dir("mnist") == tmp_path / "g" / "mnist"
    monkeypatch.delenv("GRAPHGRAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert datasets.cache_dir("mnist") == tmp_path / "x" / "graphgrad" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.cache_dir("mnist") == tmp_path / "home" / ".cache" / "graphgrad" / "mnist"


def test_missing_root_is_an_error_naming_it(isolated, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(isolated / "system"),))
    make_split(isolated / "system", "test", 4)  # a copy elsewhere must not be used silently
    with pytest.raises(RuntimeError, match=f"FashionMNIST: root {isolated / 'typo'} does not exist"):
        FashionMNIST(root=isolated / "typo", train=False)
    (isolated / "file").write_text("")
    with pytest.raises(RuntimeError, match="is not a folder"):
        FashionMNIST(root=isolated / "file", train=False)


def test_not_found_names_debian_package_and_download(isolated):
    (isolated / "nothing").mkdir()
    with pytest.raises(RuntimeError) as info:
        FashionMNIST(root=isolated / "nothing", train=False)
    message = str(info.value)
    assert "FashionMNIST: the test split was not found" in message
    assert "t10k-images-idx3-ubyte[.gz]" in message and str(isolated / "nothing") in message
    assert "pass root=None to use the system copy" in message and "apt-get" not in message
    assert "download=True" in message
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST(train=False)
    with pytest.raises(RuntimeError, match="pass download=True") as info:
        MNIST()
    assert "apt-get" not in str(info.value)


# downloads, served from local bytes


class FakeResponse(io.BytesIO):
    def __init__(self, payload: bytes):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


@pytest.fixture
def served(isolated, monkeypatch):
    """Serve four small gzipped IDX files at fake mirror URLs and point the checksums at them."""
    source = isolated / "served"
    train_images, train_labels = make_split(source, "train", 12)
    make_split(source, "test", 5, seed=1)
    resources = tuple(
        (p.name, hashlib.md5(p.read_bytes()).hexdigest()) for p in sorted(source.iterdir())
    )
    monkeypatch.setattr(FashionMNIST, "resources", resources)
    monkeypatch.setattr(
        FashionMNIST, "mirrors", ("http://mirror-a.invalid/", "http://mirror-b.invalid/")
    )
    requests = []

    def urlopen(request, timeout=None):
        url = request.full_url
        requests.append(url)
        if url.startswith("http://mirror-a.invalid/"):
            raise urllib.error.URLError("mirror a is down")
        return FakeResponse((source / url.rsplit("/", 1)[1]).read_bytes())

    monkeypatch.setattr(datasets, "_urlopen", urlopen)
    return {"requests": requests, "train": (train_images, train_labels), "source": source}


def test_download_to_cache(served, isolated):
    ds = FashionMNIST(download=True)
    cache = isolated / "cache" / "fashion-mnist"
    assert ds.folder == cache and len(ds) == 12
    np.testing.assert_array_equal(ds.data, served["train"][0])
    assert sorted(p.name for p in cache.iterdir()) == sorted(n for n, _ in FashionMNIST.resources)
    assert len(served["requests"]) == 8, "each file: mirror a fails, mirror b serves"
    FashionMNIST(train=False, download=True)
    assert len(served["requests"]) == 8, "nothing downloaded twice"


def test_download_into_root(served, isolated):
    ds = FashionMNIST(root=isolated / "mine", train=False, download=True)
    assert ds.folder == isolated / "mine" / "FashionMNIST" / "raw" and len(ds) == 5


def test_checksum_failure_leaves_no_file(served, isolated, monkeypatch):
    bad = tuple((name, "0" * 32) for name, _ in FashionMNIST.resources)
    monkeypatch.setattr(FashionMNIST, "resources", bad)
    with pytest.raises(
        RuntimeError,
        match=r"images-idx3-ubyte.gz failed: .*checksum mismatch \(MD5 [0-9a-f]{32}, expected 0{32}\)",
    ) as info:
        FashionMNIST(download=True)
    assert "apt-get install dataset-fashion-mnist" in str(info.value)
    cache = isolated / "cache" / "fashion-mnist"
    assert list(cache.iterdir()) == [], "no partial or unverified file is left"


def test_interrupted_download_leaves_no_file(served, isolated, monkeypatch):
    class Broken(FakeResponse):
        def read(self, size=-1):
            if self.tell() > 100:
                raise ConnectionResetError("connection reset")
            return super().read(50)

    monkeypatch.setattr(datasets, "_urlopen", lambda request, timeout=None: Broken(b"x" * 1000))
    with pytest.raises(RuntimeError, match="ConnectionResetError: connection reset"):
        FashionMNIST(download=True)
    assert list((isolated / "cache" / "fashion-mnist").iterdir()) == []


def test_offline_download_error(isolated, monkeypatch):
    def offline(request, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(datasets, "_urlopen", offline)
    with pytest.raises(RuntimeError) as info:
        FashionMNIST(download=True)
    message = str(info.value)
    assert "name resolution" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert str(isolated / "cache" / "fashion-mnist") in message


def test_download_shows_progress(served, isolated, capsys):
    datasets.download_file(
        ["http://mirror-b.invalid/t10k-labels-idx1-ubyte.gz"],
        isolated / "dl" / "labels.gz",
        dict(FashionMNIST.resources)["t10k-labels-idx1-ubyte.gz"],
    )
    assert "labels.gz" in capsys.readouterr().err
    assert read_idx(isolated / "dl" / "labels.gz").shape == (5,)


# the real data, where Debian's package is installed


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_test_split():
    ds = FashionMNIST(train=False)
    assert ds.folder == DEBIAN_DIR
    assert ds.data.shape == (10000, 28, 28) and ds.targets.shape == (10000,)
    np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [1000] * 10)
    x, y = load_split("fashion-mnist", train=False)
    assert x.shape == (10000, 1, 28, 28) and x.dtype == np.float32
    assert 0.0 == x.min() and x.max() == 1.0
    assert ds.classes[ds[0][1]] == "Ankle boot"


@pytest.mark.skipif(not DEBIAN_DIR.is_dir(), reason="dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_train_split_batches():
    ds = FashionMNIST()
    assert ds.data.shape == (60000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ds.targets, minlength=10), [6000] * 10)
    xb, yb = next(iter(DataLoader(ds, batch_size=256, shuffle=True)))
    assert xb.shape == (256, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
