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
    assert ds2.tensors[0].detach().numpy() is x


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
    # ValueError, from BatchSampler, as in PyTorch
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(list(range(3)), batch_size=bad)
    with pytest.raises(ValueError):
        tud.DataLoader(list(range(3)), batch_size=bad)


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


# samplers


from autograd.data import (  # noqa: E402
    BatchSampler,
    ChainDataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    get_worker_info,
)


def test_sequential_sampler_matches_torch():
    assert list(SequentialSampler(range(7))) == list(tud.SequentialSampler(range(7)))
    assert len(SequentialSampler("abcd")) == len(tud.SequentialSampler("abcd")) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(num_samples=4),
        dict(num_samples=25),
        dict(replacement=True),
        dict(replacement=True, num_samples=1000),
    ],
    ids=str,
)
def test_random_sampler_semantics_match_torch(kwargs):
    n = 10
    ours, theirs = (
        list(RandomSampler(range(n), **kwargs)),
        list(tud.RandomSampler(range(n), **kwargs)),
    )
    assert len(ours) == len(theirs) == len(RandomSampler(range(n), **kwargs))
    assert all(isinstance(i, int) and 0 <= i < n for i in ours)
    counts = np.bincount(ours, minlength=n)
    if kwargs.get("replacement"):
        if len(ours) == 1000:
            assert counts.min() > 50  # every index drawn, about 100 times each
    else:
        # whole permutations, then a prefix of one: every index floor or ceil(num/n) times
        full = len(ours) // n
        assert set(counts.tolist()) <= {full, full + 1}
        for start in range(0, full * n, n):
            assert sorted(ours[start : start + n]) == list(range(n))
        assert len(set(ours[full * n :])) == len(ours) - full * n


def test_random_sampler_is_reproducible_and_reshuffles():
    sampler = RandomSampler(range(50))
    ag.manual_seed(3)
    first, second = list(sampler), list(sampler)
    assert first != second
    ag.manual_seed(3)
    assert list(sampler) == first and list(sampler) == second
    own = [list(RandomSampler(range(50), generator=np.random.default_rng(1))) for _ in range(2)]
    assert own[0] == own[1]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda m: m.RandomSampler(range(3), replacement=1), TypeError, "replacement should be"),
        (lambda m: m.RandomSampler(range(3), num_samples=0), ValueError, "num_samples=0"),
        (lambda m: m.RandomSampler(range(3), num_samples=2.5), ValueError, "positive integer"),
        (lambda m: m.RandomSampler([]), ValueError, "num_samples=0"),
        (lambda m: m.WeightedRandomSampler([1.0], num_samples=0), ValueError, "num_samples=0"),
        (lambda m: m.WeightedRandomSampler([1.0], 2, replacement=1), ValueError, "replacement"),
        (lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2), ValueError, r"shape \(1, 2\)"),
        (lambda m: m.BatchSampler(range(3), 0, False), ValueError, "batch_size=0"),
        (lambda m: m.BatchSampler(range(3), True, False), ValueError, "batch_size=True"),
        (lambda m: m.BatchSampler(range(3), 2, 1), ValueError, "drop_last=1"),
    ],
)
def test_sampler_argument_errors_have_torchs_types(make, error, match):
    ours = __import__("autograd.data", fromlist=["x"])
    with pytest.raises(error, match=match):
        make(ours)
    with pytest.raises(error):
        make(tud)


def test_subset_random_sampler_permutes_the_given_indices():
    indices = [7, 3, 11, 5]
    ag.manual_seed(0)
    draws = [list(SubsetRandomSampler(indices)) for _ in range(20)]
    assert all(sorted(d) == sorted(indices) for d in draws)
    assert len({tuple(d) for d in draws}) > 1
    assert len(SubsetRandomSampler(indices)) == len(tud.SubsetRandomSampler(indices)) == 4
    sampler = SubsetRandomSampler(["a", "b"])  # any keys, as in PyTorch
    assert sorted(sampler) == ["a", "b"]


def test_weighted_random_sampler_frequencies_and_zero_weights():
    weights = [0.0, 1.0, 2.0, 0.0, 5.0]
    ag.manual_seed(0)
    draws = list(WeightedRandomSampler(weights, num_samples=40000))
    assert len(draws) == 40000 == len(WeightedRandomSampler(weights, 40000))
    freq = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(freq, np.array(weights) / 8.0, atol=0.015)
    theirs = list(tud.WeightedRandomSampler(weights, num_samples=40000))
    np.testing.assert_allclose(freq, np.bincount(theirs, minlength=5) / 40000, atol=0.02)
    once = list(WeightedRandomSampler(weights, num_samples=3, replacement=False))
    assert sorted(once) == [1, 2, 4]
    # without replacement the zero weights come last, once the others are used up (as torch)
    every = list(WeightedRandomSampler(weights, num_samples=5, replacement=False))
    assert sorted(every[:3]) == [1, 2, 4] and sorted(every[3:]) == [0, 3]
    theirs = tud.WeightedRandomSampler(weights, num_samples=5, replacement=False)
    assert sorted(list(theirs)[:3]) == [1, 2, 4]
    # the first draw without replacement follows the weights
    firsts = [
        next(iter(WeightedRandomSampler([1.0, 3.0], 1, replacement=False))) for _ in range(4000)
    ]
    assert abs(np.mean(firsts) - 0.75) < 0.03
    assert isinstance(WeightedRandomSampler(ag.tensor([1.0, 2.0]), 2).weights, ag.Tensor)


@pytest.mark.parametrize(
    ("weights", "num_samples"),
    [([1.0, -1.0], 2), ([0.0, 0.0], 2), ([1.0, float("nan")], 2), ([1.0, 0.0], 3)],
)
def test_weighted_random_sampler_invalid_distributions_raise_runtime_error(weights, num_samples):
    replacement = num_samples <= len(weights)
    with pytest.raises(RuntimeError):
        list(WeightedRandomSampler(weights, num_samples, replacement=replacement))
    with pytest.raises(RuntimeError):
        list(tud.WeightedRandomSampler(weights, num_samples, replacement=replacement))


@pytest.mark.parametrize("batch_size", [1, 3, 4, 7, 9])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    for source in (range(7), [5, 1, 4]):
        ours = BatchSampler(SequentialSampler(source), batch_size, drop_last)
        theirs = tud.BatchSampler(tud.SequentialSampler(source), batch_size, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        plain = BatchSampler(source, batch_size, drop_last)  # any iterable, as in PyTorch
        assert list(plain) == list(tud.BatchSampler(source, batch_size, drop_last))


class LabelledSquares(Dataset):
    """A per-sample dataset (no get_batch): sample i is (i, i * i)."""

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return i, i * i


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sampler=[3, 1, 4, 1, 5, 9, 2, 6], batch_size=3),
        dict(sampler=[3, 1, 4, 1, 5, 9, 2, 6], batch_size=3, drop_last=True),
        dict(sampler=[9, 0], batch_size=None),
        dict(batch_sampler=[[0, 1], [5, 3, 2], [9]]),
    ],
    ids=str,
)
@pytest.mark.parametrize("data", ["per-sample", "tensors"])
def test_loader_with_sampler_or_batch_sampler_matches_torch(kwargs, data):
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10) * 3
    if data == "per-sample":
        ours_ds, theirs_ds = LabelledSquares(), LabelledSquares()
    else:
        ours_ds = TensorDataset(x, y)
        theirs_ds = tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    ours, theirs = DataLoader(ours_ds, **kwargs), tud.DataLoader(theirs_ds, **kwargs)
    assert len(ours) == len(theirs)
    ours_list, theirs_list = list(ours), list(theirs)
    assert len(ours_list) == len(theirs_list)
    for a, b in zip(ours_list, theirs_list):
        assert_same_batch(a, b)


@pytest.mark.parametrize(
    "sampler",
    [
        lambda ds: RandomSampler(ds),
        lambda ds: RandomSampler(ds, replacement=True, num_samples=25),
        lambda ds: SubsetRandomSampler([1, 3, 5, 7, 9]),
        lambda ds: WeightedRandomSampler([1.0] * 5 + [0.0] * 5, num_samples=12),
    ],
    ids=["random", "replacement", "subset", "weighted"],
)
def test_loader_with_random_samplers_batches_what_the_sampler_draws(sampler):
    n = 10
    ds = TensorDataset(np.zeros((n, 1), np.float32), np.arange(n))
    s = sampler(ds)
    ag.manual_seed(4)
    expected = list(s)
    ag.manual_seed(4)
    loader = DataLoader(ds, batch_size=4, sampler=s)
    batches = [b[1].tolist() for b in loader]
    assert sum(batches, []) == expected
    assert len(loader) == len(batches) == -(-len(s) // 4)
    assert [len(b) for b in batches[:-1]] == [4] * (len(batches) - 1)


def test_loader_with_a_custom_sampler_class():
    class Reverse(Sampler):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    batches = [b.tolist() for b in DataLoader(list(range(5)), batch_size=2, sampler=Reverse(5))]
    assert batches == [[4, 3], [2, 1], [0]]


LOADER_ARGUMENT_ERRORS = [
    (dict(sampler=[0, 1], shuffle=True), ValueError, "mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually"),
    (dict(batch_sampler=[[0]], shuffle=True), ValueError, "batch_sampler option is mutually"),
    (dict(batch_sampler=[[0]], sampler=[0]), ValueError, "batch_sampler option is mutually"),
    (dict(batch_sampler=[[0]], drop_last=True), ValueError, "batch_sampler option is mutually"),
    (dict(batch_size=None, drop_last=True), ValueError, "mutually exclusive with drop_last"),
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified"),
    (dict(num_workers=1, prefetch_factor=-1), ValueError, "prefetch_factor option should be"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers"),
    (dict(multiprocessing_context="fork"), ValueError, "multi-process loading"),
    (dict(num_workers=1, multiprocessing_context="teleport"), ValueError, "valid start method"),
    (dict(num_workers=1, multiprocessing_context=3), TypeError, "valid context object"),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), LOADER_ARGUMENT_ERRORS, ids=str)
def test_loader_argument_errors_have_torchs_types(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(list(range(4)), **kwargs)
    with pytest.raises(error):
        tud.DataLoader(list(range(4)), **kwargs)


def test_loader_attributes_are_frozen_and_defaults_are_torchs():
    loader = DataLoader(list(range(4)), batch_size=2)
    assert isinstance(loader.sampler, SequentialSampler)
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.batch_sampler.batch_size == 2
    assert loader.collate_fn is default_collate and loader.prefetch_factor is None
    assert isinstance(DataLoader(list(range(4)), shuffle=True).sampler, RandomSampler)
    assert DataLoader(list(range(4)), batch_size=None).collate_fn is default_convert
    assert DataLoader(list(range(4)), num_workers=1).prefetch_factor == 2
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set"):
            setattr(loader, name, 3)
    loader.num_workers = 1  # allowed, as in PyTorch
    with pytest.warns(UserWarning, match="no accelerator"):
        DataLoader(list(range(4)), pin_memory=True)


def test_module_paths_like_torch_utils_data():
    import autograd.data.dataloader as dataloader_module
    import autograd.data.dataset as dataset_module
    import autograd.data.sampler as sampler_module

    assert dataloader_module.DataLoader is DataLoader
    assert dataloader_module.default_collate is default_collate
    assert dataloader_module.get_worker_info is get_worker_info
    assert sampler_module.RandomSampler is RandomSampler and sampler_module.Sampler is Sampler
    assert dataset_module.TensorDataset is TensorDataset
    assert dataset_module.IterableDataset is IterableDataset
    assert ag.data.DataLoader is DataLoader


# IterableDataset


class StreamMixin:
    """0..n-1; split between workers with get_worker_info when ``shard`` (PyTorch's recipe)."""

    worker_info = staticmethod(get_worker_info)

    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = self.worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        per_worker = -(-self.n // info.num_workers)
        start = info.id * per_worker
        return iter(range(start, min(start + per_worker, self.n)))


class Stream(StreamMixin, IterableDataset):
    pass


class TorchStream(StreamMixin, tud.IterableDataset):
    worker_info = staticmethod(tud.get_worker_info)


class SizedStream(Stream):
    def __len__(self):
        return self.n


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None)],
    ids=str,
)
@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("shard", [True, False])
def test_iterable_dataset_batches_match_torch(kwargs, num_workers, shard):
    ours = list(DataLoader(Stream(10, shard), num_workers=num_workers, **kwargs))
    theirs = list(tud.DataLoader(TorchStream(10, shard), num_workers=num_workers, **kwargs))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert_same_batch(a, b)


def test_iterable_dataset_len_chain_and_errors():
    assert len(DataLoader(SizedStream(10), batch_size=3)) == 4
    assert len(DataLoader(SizedStream(10), batch_size=3, drop_last=True)) == 3
    assert len(DataLoader(SizedStream(10), batch_size=None)) == 10
    with pytest.raises(TypeError):
        len(DataLoader(Stream(10), batch_size=3))
    chained = Stream(2) + Stream(3)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 0, 1, 2]
    assert [b.tolist() for b in DataLoader(chained, batch_size=4)] == [[0, 1, 0, 1], [2]]
    for kwargs, match in [
        (dict(shuffle=True), "expected unspecified shuffle option"),
        (dict(sampler=[0]), "expected unspecified sampler option"),
        (dict(batch_sampler=[[0]]), "expected unspecified batch_sampler option"),
    ]:
        with pytest.raises(ValueError, match=match):
            DataLoader(Stream(3), **kwargs)
        with pytest.raises(ValueError):
            tud.DataLoader(TorchStream(3), **kwargs)
    with pytest.raises(TypeError, match="read by iterating"):
        Stream(3)[0]


# worker processes


import multiprocessing  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import autograd.data._worker as worker_module  # noqa: E402


def wait_for_no_children(baseline, deadline=20.0):
    """Poll until the worker processes are gone (a generous bound, not a timing assertion)."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        if len(multiprocessing.active_children()) <= baseline:
            return True
        time.sleep(0.05)
    return False


class WhoLoads(Dataset):
    """Sample i: (i, worker id, worker seed, pid, a draw from the library's generator)."""

    def __len__(self):
        return 13

    def __getitem__(self, i):
        info = get_worker_info()
        wid, seed = (-1, -1) if info is None else (info.id, info.seed)
        return i, wid, seed, os.getpid(), float(ag.rand(()).item())


@pytest.mark.parametrize("num_workers", [1, 2])
@pytest.mark.parametrize(
    "kwargs",
    [dict(batch_size=3), dict(batch_size=4, drop_last=True), dict(batch_size=None)],
    ids=str,
)
def test_workers_give_the_same_batches_in_the_same_order(num_workers, kwargs):
    ours = [b[0] for b in DataLoader(WhoLoads(), num_workers=num_workers, **kwargs)]
    single = [b[0] for b in DataLoader(WhoLoads(), **kwargs)]
    assert_same_batch(ours, single)
    x, y = np.arange(26.0).reshape(13, 2), np.arange(13)
    tensors = list(DataLoader(TensorDataset(x, y), num_workers=num_workers, **kwargs))
    theirs = list(
        tud.DataLoader(
            tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
            num_workers=num_workers,
            **kwargs,
        )
    )
    assert len(tensors) == len(theirs)
    for a, b in zip(tensors, theirs):
        assert_same_batch(a, b)


def test_workers_round_robin_seeds_and_worker_info():
    ag.manual_seed(11)
    batches = list(DataLoader(WhoLoads(), batch_size=3, num_workers=2))
    workers = [set(b[1].tolist()) for b in batches]
    assert workers == [{0}, {1}, {0}, {1}, {0}]  # batch k from worker k % 2, as in PyTorch
    seeds = {w: s for b in batches for w, s in zip(b[1].tolist(), b[2].tolist())}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    pids = {w: p for b in batches for w, p in zip(b[1].tolist(), b[3].tolist())}
    assert len(set(pids.values())) == 2 and os.getpid() not in pids.values()
    # each worker draws its own random stream, reproducibly under ag.manual_seed
    draws = np.concatenate([b[4].numpy() for b in batches])
    assert len(set(draws.tolist())) == len(draws)
    ag.manual_seed(11)
    again = list(DataLoader(WhoLoads(), batch_size=3, num_workers=2))
    np.testing.assert_array_equal(np.concatenate([b[4].numpy() for b in again]), draws)
    ag.manual_seed(12)
    other = list(DataLoader(WhoLoads(), batch_size=3, num_workers=2))
    assert not np.array_equal(np.concatenate([b[4].numpy() for b in other]), draws)
    assert get_worker_info() is None


def test_shuffled_order_with_workers_is_the_single_process_order():
    ds = TensorDataset(np.zeros((30, 1), np.float32), np.arange(30))
    ag.manual_seed(5)
    single = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True)]
    ag.manual_seed(5)
    multi = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)]
    assert multi == single and sorted(sum(multi, [])) == list(range(30))
    gen = [
        [
            b[1].tolist()
            for b in DataLoader(
                ds, batch_size=4, shuffle=True, num_workers=2, generator=np.random.default_rng(9)
            )
        ]
        for _ in range(2)
    ]
    assert gen[0] == gen[1]


def test_worker_init_fn_runs_in_each_worker_and_configures_its_copy():
    class Configurable(Dataset):
        def __init__(self):
            self.offset = 0

        def __len__(self):
            return 6

        def __getitem__(self, i):
            return i + self.offset

    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        info.dataset.offset = 100 * (worker_id + 1)

    ds = Configurable()
    batches = [b.tolist() for b in DataLoader(ds, batch_size=2, num_workers=2, worker_init_fn=init)]
    assert batches == [[100, 101], [202, 203], [104, 105]]
    assert ds.offset == 0  # the main process's copy is untouched


class FailsAt(Dataset):
    def __init__(self, bad, error=KeyError):
        self.bad, self.error = bad, error

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            raise self.error(f"sample {i} is broken")
        return i


@pytest.mark.parametrize("error", [KeyError, ValueError, ZeroDivisionError])
def test_an_exception_in_a_worker_is_raised_again_naming_the_worker(error):
    baseline = len(multiprocessing.active_children())
    loader = DataLoader(FailsAt(5, error), batch_size=2, num_workers=2)
    seen = []
    with pytest.raises(
        error, match=r"(?s)Caught \w+ in DataLoader worker process 0.*sample 5 is broken"
    ):
        for batch in loader:
            seen.append(batch.tolist())
    assert seen == [[0, 1], [2, 3]]
    assert wait_for_no_children(baseline), "workers left running after the exception"


def test_an_exception_in_worker_init_fn_is_raised_naming_the_worker():
    def init(worker_id):
        if worker_id == 1:
            raise RuntimeError("no GPU in worker")

    with pytest.raises(RuntimeError, match="(?s)in DataLoader worker process 1.*no GPU in worker"):
        list(DataLoader(list(range(8)), batch_size=2, num_workers=2, worker_init_fn=init))


def test_an_unpicklable_batch_is_an_error_not_a_hang():
    loader = DataLoader(list(range(4)), batch_size=2, num_workers=1, collate_fn=lambda s: lambda: s)
    with pytest.raises(
        Exception, match="in DataLoader worker process 0 \\(sending the batch back\\)"
    ):
        next(iter(loader))


def test_workers_stop_when_the_iterator_is_dropped_or_finishes():
    baseline = len(multiprocessing.active_children())
    loader = DataLoader(WhoLoads(), batch_size=2, num_workers=2)
    for _ in loader:
        break
    assert wait_for_no_children(baseline), "workers left running after break"
    it = iter(loader)
    next(it)
    assert len(multiprocessing.active_children()) >= baseline + 2
    del it
    assert wait_for_no_children(baseline), "workers left running after the iterator was dropped"
    list(loader)
    assert wait_for_no_children(baseline), "workers left running after the epoch"

    def user_code_fails():
        for _ in DataLoader(WhoLoads(), batch_size=2, num_workers=2):
            raise ValueError("a bug in the training loop")

    with pytest.raises(ValueError, match="training loop"):
        user_code_fails()
    assert wait_for_no_children(baseline), "workers left running after an exception in the loop"


def test_a_worker_that_dies_is_reported(monkeypatch):
    monkeypatch.setattr(worker_module, "MP_STATUS_CHECK_INTERVAL", 0.2)

    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(
        RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited unexpectedly"
    ):
        list(DataLoader(Dies(), batch_size=2, num_workers=1))


def test_timeout_raises_when_a_batch_takes_too_long():
    class Sleepy(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(1.0)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        next(iter(DataLoader(Sleepy(), batch_size=1, num_workers=1, timeout=0.2)))


def test_persistent_workers_serve_every_epoch_and_stop_with_the_loader():
    baseline = len(multiprocessing.active_children())
    loader = DataLoader(WhoLoads(), batch_size=3, num_workers=2, persistent_workers=True)
    first = list(loader)
    second = list(loader)
    assert [b[0].tolist() for b in first] == [b[0].tolist() for b in second]
    pids = lambda batches: {p for b in batches for p in b[3].tolist()}  # noqa: E731
    assert pids(first) == pids(second) and len(pids(first)) == 2  # the same two processes
    partial = iter(loader)
    next(partial)  # an epoch left unfinished does not disturb the next one
    third = list(loader)
    assert [b[0].tolist() for b in third] == [b[0].tolist() for b in first]
    del loader, partial
    import gc

    gc.collect()
    assert wait_for_no_children(baseline), "persistent workers outlived their loader"


def test_persistent_workers_with_an_iterable_dataset():
    loader = DataLoader(Stream(7), batch_size=2, num_workers=2, persistent_workers=True)
    expected = [b.tolist() for b in tud.DataLoader(TorchStream(7), batch_size=2, num_workers=2)]
    assert [b.tolist() for b in loader] == expected
    assert [b.tolist() for b in loader] == expected


def test_out_of_order_delivery_still_delivers_every_batch():
    loader = DataLoader(list(range(20)), batch_size=3, num_workers=2, in_order=False)
    batches = [b.tolist() for b in loader]
    assert sorted(map(tuple, batches)) == sorted(
        tuple(range(i, min(i + 3, 20))) for i in range(0, 20, 3)
    )


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_other_start_methods(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    ds = TensorDataset(np.arange(12.0).reshape(6, 2), np.arange(6))
    batches = list(DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context=method))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5]]
