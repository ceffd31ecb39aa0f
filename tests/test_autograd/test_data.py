"""autograd.data: datasets, DataLoader batching/shuffling/collation, random_split (torch as oracle)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import autograd as ag
from autograd.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

from parity import import_torch

torch = import_torch()
tud = torch.utils.data


def to_numpy(batch):
    """Turn a (nested) batch of ag or torch tensors into numpy for comparison."""
    if isinstance(batch, ag.Tensor):
        return batch.numpy()
    if isinstance(batch, torch.Tensor):
        return batch.numpy()
    if isinstance(batch, dict):
        return {k: to_numpy(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [to_numpy(b) for b in batch]
    return batch


def assert_same_batch(ours, theirs):
    ours, theirs = to_numpy(ours), to_numpy(theirs)
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray)
        assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys()
        for key in theirs:
            assert_same_batch(ours[key], theirs[key])
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    else:
        assert ours == theirs


class NoItemAccess(Dataset):
    """Wraps arrays but forbids per-sample access: proves that batching is vectorised."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        raise AssertionError("per-sample __getitem__ called")


@pytest.fixture
def xy():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10, dtype=np.int64) % 3
    return x, y


# TensorDataset


def test_tensor_dataset_items_and_len(xy):
    x, y = xy
    ds = TensorDataset(ag.tensor(x), ag.tensor(y))
    assert len(ds) == 10
    a, b = ds[4]
    np.testing.assert_array_equal(a.numpy(), x[4])
    assert b.item() == y[4] and b.dtype == np.int64
    # ndarrays are wrapped without a copy
    ds2 = TensorDataset(x, y)
    assert ds2.tensors[0].data is x


def test_tensor_dataset_errors(xy):
    x, y = xy
    with pytest.raises(ValueError, match=r"size mismatch.*\(10, 3\), \(9,\)"):
        TensorDataset(ag.tensor(x), ag.tensor(y[:9]))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(TypeError, match="argument 1 is a list"):
        TensorDataset(ag.tensor(x), [1, 2])
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(ag.tensor(1.0))


def test_tensor_dataset_batches_without_per_sample_loop(xy, monkeypatch):
    x, y = xy
    ds = TensorDataset(x, y)

    def forbidden(self, index):
        raise AssertionError("per-sample __getitem__ called")

    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    batches = list(DataLoader(ds, batch_size=4))
    np.testing.assert_array_equal(batches[0][0].numpy(), x[:4])
    np.testing.assert_array_equal(batches[2][1].numpy(), y[8:])
    # a Subset and a ConcatDataset of TensorDatasets stay vectorised
    sub = Subset(ds, [9, 0, 5])
    ((bx, by),) = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(bx.numpy(), x[[9, 0, 5]])
    both = ConcatDataset([ds, Subset(ds, [1, 2])])
    bx, by = next(iter(DataLoader(both, batch_size=12)))
    np.testing.assert_array_equal(bx.numpy(), np.concatenate([x, x[[1, 2]]]))


def test_tensor_dataset_batch_keeps_graph():
    w = ag.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(w), batch_size=2)))
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1], [1, 1], [0, 0]])


# DataLoader vs torch


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 16])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(xy, batch_size, drop_last):
    x, y = xy
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = tud.DataLoader(
        tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    ours_list, theirs_list = list(ours), list(theirs)
    assert len(ours_list) == len(theirs_list) == len(ours)
    for a, b in zip(ours_list, theirs_list):
        assert_same_batch(a, b)


class PySamples(Dataset):
    """A plain-Python dataset of structured samples (the per-sample + collate path)."""

    Point = collections.namedtuple("Point", "x label")

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 7

    def __getitem__(self, i):
        image = np.full((2, 2), i, dtype=np.float32)
        if self.kind == "tuple":
            return image, i, float(i) / 2, f"s{i}"
        if self.kind == "dict":
            return {"image": image, "meta": {"id": i, "ok": i % 2 == 0}, "pair": [i, i + 1]}
        if self.kind == "namedtuple":
            return self.Point(np.float64(i), np.int32(i))
        return i


@pytest.mark.parametrize("kind", ["tuple", "dict", "namedtuple", "int"])
def test_collation_matches_torch(kind):
    ours = list(DataLoader(PySamples(kind), batch_size=3))
    theirs = list(tud.DataLoader(PySamples(kind), batch_size=3))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert type(a) is type(b) or (isinstance(a, ag.Tensor) and isinstance(b, torch.Tensor))
        assert_same_batch(a, b)


def test_default_collate_dtypes_like_torch():
    cases = [
        [1, 2],
        [1.5, 2.0],
        [True, False],
        [np.float32(1), np.float32(2)],
        [np.int32(3), np.int32(4)],
        [np.zeros((2, 3)), np.ones((2, 3))],
        [(1, 2.0), (3, 4.0)],
        [[1, 2], [3, 4]],
    ]
    for batch in cases:
        assert_same_batch(default_collate(batch), tud.default_collate(batch))
    tensors = [ag.tensor([1.0, 2.0]), ag.tensor([3.0, 4.0])]
    out = default_collate(tensors)
    assert out.shape == (2, 2) and out.dtype == np.float32
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(TypeError, match="dtype <U1"):
        default_collate([np.array(["a"])])
    with pytest.raises(
        RuntimeError, match=r"different shapes: \(2,\) at entry 0 and \(3,\) at entry 1"
    ):
        default_collate([ag.zeros(2), ag.zeros(3)])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_default_convert_and_unbatched_loader():
    converted = default_convert({"a": np.arange(3), "b": [np.float32(1.0), "x"]})
    assert isinstance(converted["a"], ag.Tensor) and converted["a"].dtype == np.int64
    assert isinstance(converted["b"][0], ag.Tensor) and converted["b"][1] == "x"
    loader = DataLoader(PySamples("int"), batch_size=None)
    assert len(loader) == 7 and list(loader) == list(range(7))
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(PySamples("int"), batch_size=None, drop_last=True)


def test_custom_collate_fn_gets_list_of_samples(xy):
    x, y = xy
    seen = []

    def collate(samples):
        seen.append(len(samples))
        assert isinstance(samples, list) and isinstance(samples[0], tuple)
        return sum(int(s[1].item()) for s in samples)

    out = list(DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=collate))
    assert seen == [4, 4, 2]
    assert out == [int(y[i : i + 4].sum()) for i in (0, 4, 8)]


def test_getitems_protocol_with_collate_fn():
    class Batched(PySamples):
        def __getitems__(self, indices):
            return [("batched", i) for i in indices]

    out = list(DataLoader(Batched("int"), batch_size=4, collate_fn=lambda s: s))
    assert out[0] == [("batched", i) for i in range(4)]


# shuffling


def epoch_order(loader):
    return np.concatenate([batch[1].numpy() for batch in loader])


def test_shuffle_is_a_permutation_and_reproducible():
    n = 50
    ds = TensorDataset(np.zeros((n, 1), np.float32), np.arange(n))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    ag.manual_seed(123)
    first, second = epoch_order(loader), epoch_order(loader)
    assert sorted(first) == list(range(n)) and sorted(second) == list(range(n))
    assert not np.array_equal(first, np.arange(n))
    assert not np.array_equal(first, second), "each epoch reshuffles"
    ag.manual_seed(123)
    np.testing.assert_array_equal(epoch_order(loader), first)
    np.testing.assert_array_equal(epoch_order(loader), second)
    # a loader created after seeding uses the generator current at iteration time
    ag.manual_seed(123)
    np.testing.assert_array_equal(epoch_order(DataLoader(ds, batch_size=8, shuffle=True)), first)


def test_shuffle_with_own_generator_and_drop_last():
    n = 23
    ds = TensorDataset(np.zeros((n, 1), np.float32), np.arange(n))
    a = epoch_order(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(7)))
    b = epoch_order(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(7)))
    np.testing.assert_array_equal(a, b)
    loader = DataLoader(ds, batch_size=5, shuffle=True, drop_last=True)
    order = epoch_order(loader)
    assert len(loader) == 4 and len(order) == 20 and len(set(order.tolist())) == 20
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        DataLoader(ds, generator=7)


def test_shuffled_plain_dataset():
    ag.manual_seed(0)
    out = [b.tolist() for b in DataLoader(list(range(10)), batch_size=4, shuffle=True)]
    assert [len(b) for b in out] == [4, 4, 2]
    assert sorted(sum(out, [])) == list(range(10))


# argument errors


@pytest.mark.parametrize("bad", [0, -1])
def test_batch_size_must_be_positive(bad):
    with pytest.raises(ValueError, match=f"positive integer value, but got batch_size={bad}"):
        DataLoader(list(range(3)), batch_size=bad)


@pytest.mark.parametrize("bad", [1.5, "2", True])
def test_batch_size_must_be_int(bad):
    with pytest.raises(TypeError, match="batch_size should be a positive integer"):
        DataLoader(list(range(3)), batch_size=bad)


def test_loader_argument_errors():
    with pytest.raises(TypeError, match="has no __len__"):
        DataLoader(iter(range(3)))
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader([1], collate_fn=3)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader([1], num_workers=-1)
    with pytest.raises(TypeError, match="shuffle must be a bool"):
        DataLoader([1], shuffle="yes")
    assert len(DataLoader([], batch_size=2)) == 0 and list(DataLoader([], batch_size=2)) == []
    assert "batch_size=2" in repr(DataLoader([1, 2, 3], batch_size=2))


# Subset, ConcatDataset, Dataset


def test_subset_and_concat_indexing(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    sub = Subset(ds, [3, 1])
    assert len(sub) == 2 and sub[0][1].item() == y[3] and sub[-1][1].item() == y[1]
    cat = ds + sub
    assert isinstance(cat, ConcatDataset) and len(cat) == 12 and cat.cumulative_sizes == [10, 12]
    assert cat[10][1].item() == y[3] and cat[-1][1].item() == y[1]
    with pytest.raises(IndexError, match="out of range"):
        cat[12]
    with pytest.raises(IndexError, match="out of range"):
        cat[-13]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(IndexError, match="index 5 is out of range for a dataset of length 2"):
        sub.get_batch([0, 5])


def test_concat_get_batch_interleaved_matches_per_sample():
    a = TensorDataset(np.arange(6, dtype=np.float32).reshape(3, 2), np.array([0, 1, 2]))
    b = PySamples("tuple")  # no vectorised path: collated per part, then merged
    cat = ConcatDataset([TensorDataset(np.zeros((7, 2), np.float32), np.arange(7)), a])
    index = [8, 0, 9, 3, 7, 1]
    assert_same_batch(cat.get_batch(index), default_collate([cat[i] for i in index]))
    bad = ConcatDataset([TensorDataset(np.zeros((7, 2, 2), np.float32), np.arange(7)), a])
    with pytest.raises(RuntimeError, match=r"different shapes: \(2, 2\) .* and \(2,\)"):
        bad.get_batch([0, 8])
    mixed = ConcatDataset([b, b])
    index = [9, 2, 7, 13, 0]
    assert_same_batch(mixed.get_batch(index), default_collate([mixed[i] for i in index]))


def test_base_dataset_must_implement_getitem():
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        Dataset()[0]
    with pytest.raises(AssertionError, match="per-sample"):
        list(DataLoader(NoItemAccess(3)))


# random_split


@pytest.mark.parametrize(
    "n, lengths",
    [
        (10, [3, 7]),
        (10, [0.33, 0.33, 0.34]),
        (7, [0.5, 0.5]),
        (100, [0.8, 0.1, 0.1]),
        (11, [0.1] * 10),
        (5, [1.0]),
        (3, [0.2, 0.8]),
    ],
)
def test_random_split_lengths_match_torch(n, lengths):
    ours = random_split(list(range(n)), lengths)
    theirs = tud.random_split(list(range(n)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    everything = sorted(i for s in ours for i in s.indices)
    assert everything == list(range(n))


def test_random_split_reproducible_and_subsets_work(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    ag.manual_seed(5)
    a = [s.indices for s in random_split(ds, [0.7, 0.3])]
    ag.manual_seed(5)
    b = [s.indices for s in random_split(ds, [7, 3])]
    assert a == b
    c = [s.indices for s in random_split(ds, [7, 3], generator=np.random.default_rng(1))]
    d = [s.indices for s in random_split(ds, [7, 3], generator=np.random.default_rng(1))]
    assert c == d
    train, _ = random_split(ds, [7, 3])
    bx, by = next(iter(DataLoader(train, batch_size=7)))
    np.testing.assert_array_equal(bx.numpy(), x[train.indices])


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"sum of input lengths \(6\) does not equal .* \(10\)"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="neither integers .* nor fractions summing to 1"):
        random_split(range(10), [0.5, 0.6])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(range(10), [-1, 11])
    with pytest.raises(ValueError, match="empty"):
        random_split(range(10), [])
    with pytest.raises(TypeError, match="ints or floats"):
        random_split(range(10), ["5", 5])
    with pytest.warns(UserWarning, match="length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])
