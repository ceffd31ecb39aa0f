"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``:
``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``, ``pad_sequence``,
``pack_sequence``, ``unpad_sequence`` and ``unpack_sequence``.

Packing and unpacking are gathers (``getitem`` with index arrays), so gradients flow through
them to the padded input and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

import autograd as ag
from autograd.tensor import Tensor

__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation",
]  # fmt: skip


class _PackedSequenceBase(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences, packed time step by time step.

    ``data`` holds, for each time step, the entries of the sequences still running (longest
    first); ``batch_sizes[t]`` is how many there are at step ``t``. ``sorted_indices`` maps the
    packed order to the original batch (None when the batch was already sorted by length) and
    ``unsorted_indices`` is its inverse. Build it with ``pack_padded_sequence`` or
    ``pack_sequence``; every recurrent layer accepts it.

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pack_sequence
        >>> packed = pack_sequence([ag.tensor([1.0, 2.0, 3.0]), ag.tensor([4.0, 5.0])])
        >>> packed.data.tolist(), packed.batch_sizes.tolist()
        ([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:  # fmt: skip
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes must be given (use pack_padded_sequence)")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Convert ``data`` (dtype or device, as ``Tensor.to``); the indices stay int64."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def float(self) -> PackedSequence:
        """``data`` as float32."""
        return self.to(ag.float32)

    def double(self) -> PackedSequence:
        """``data`` as float64."""
        return self.to(ag.float64)

    def half(self) -> PackedSequence:
        """``data`` as float16."""
        return self.to(ag.float16)

    def cpu(self) -> PackedSequence:
        """Return self (everything lives on the CPU)."""
        return self

    @property
    def is_cuda(self) -> bool:
        """Always False: graphgrad computes on the CPU."""
        return False


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of ``0..n-1`` (None stays None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=order.dtype)
    return Tensor._from_array(inverse.astype(np.int64))


def _lengths_array(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        array = lengths._data
    elif hasattr(lengths, "detach") and hasattr(lengths, "numpy"):  # e.g. a torch.Tensor
        array = np.asarray(lengths.detach().numpy())
    else:
        array = np.asarray(lengths)
    if array.dtype.kind not in "iu" and array.size:
        raise TypeError(f"pack_padded_sequence: lengths must be integers, got dtype {array.dtype}")
    return array.astype(np.int64).reshape(-1)


def _pack_indices(batch_sizes: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time and batch index of every packed row: step by step, the running sequences in order."""
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    columns = np.concatenate([order[:size] for size in batch_sizes]) if batch_sizes.size else order[:0]
    return steps, columns


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:  # fmt: skip
    """Pack a padded batch of sequences of the given ``lengths``.

    Shape: input ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``); ``lengths`` ``B`` ints
    (a list or an int64 tensor), longest first unless ``enforce_sorted=False``.

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pack_padded_sequence
        >>> padded = ag.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 0.0]])  # (T=3, B=2)
        >>> pack_padded_sequence(padded, [3, 2]).data.tolist()
        [1.0, 4.0, 2.0, 5.0, 3.0]
    """
    array = _lengths_array(lengths)
    x = input.transpose(0, 1) if batch_first else input
    if x.ndim < 2:
        raise RuntimeError(
            f"pack_padded_sequence: expected an input with a time and a batch dim, got shape "
            f"{tuple(input.shape)}"
        )
    steps, batch = x.shape[:2]
    if array.size != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {array.size} "
            f"(batch_size={batch})"
        )
    if array.size and array.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if array.size and array.max() > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {int(array.max())} is longer than the padded "
            f"input's {steps} time steps (input {tuple(input.shape)}, batch_first={batch_first})"
        )
    if enforce_sorted:
        if np.any(np.diff(array) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        order = np.arange(batch)
        sorted_indices = None
    else:
        order = np.argsort(-array, kind="stable")
        sorted_indices = Tensor._from_array(order.astype(np.int64))
    longest = int(array.max()) if array.size else 0
    batch_sizes = (array[None, :] > np.arange(longest)[:, None]).sum(axis=1).astype(np.int64)
    time_index, batch_index = _pack_indices(batch_sizes, order)
    data = x[Tensor._from_array(time_index), Tensor._from_array(batch_index)]
    return PackedSequence(data, Tensor._from_array(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Undo ``pack_padded_sequence``: return ``(padded, lengths)`` in the original batch order.

    Shape: padded ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``), ``T`` the longest length
    or ``total_length``; lengths ``(B,)`` int64.

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> packed = pack_sequence([ag.tensor([1.0]), ag.tensor([2.0, 3.0])], enforce_sorted=False)
        >>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
        >>> padded.tolist(), lengths.tolist()
        ([[1.0, 0.0], [2.0, 3.0]], [1, 2])
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = np.asarray(sequence.batch_sizes._data, dtype=np.int64)
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    longest = batch_sizes.size
    if total_length is not None:
        if total_length < longest:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{longest}"
            )
    steps = longest if total_length is None else int(total_length)
    order = (
        np.arange(batch)
        if sequence.sorted_indices is None
        else np.asarray(sequence.sorted_indices._data, dtype=np.int64)
    )
    time_index, batch_index = _pack_indices(batch_sizes, order)
    # Every (t, b) reads a packed row, or the extra padding row at the end.
    rows = np.full((steps, batch), data.shape[0], dtype=np.int64)
    rows[time_index, batch_index] = np.arange(time_index.size)
    filler = ag.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = ag.cat([data, filler])[Tensor._from_array(rows)]
    sorted_lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    lengths = np.empty(batch, dtype=np.int64)
    lengths[order] = sorted_lengths
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, Tensor._from_array(lengths)


def pad_sequence(sequences: Iterable[Tensor] | Tensor, batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:  # fmt: skip
    """Stack sequences of different lengths ``(L_i, *)``, padded to the longest.

    Shape: ``(T, B, *)``, or ``(B, T, *)`` with ``batch_first``; ``padding_side='left'`` puts
    the padding first.

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pad_sequence
        >>> pad_sequence([ag.tensor([1.0, 2.0]), ag.tensor([3.0])], batch_first=True).tolist()
        [[1.0, 2.0], [3.0, 0.0]]
    """
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    items = list(sequences)
    if not items:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    trailing = tuple(items[0].shape[1:])
    for k, item in enumerate(items):
        if item.ndim == 0 or tuple(item.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: sequence {k} has shape {tuple(item.shape)}, but every sequence "
                f"must be (L, {', '.join(map(str, trailing)) or ''}) like sequence 0 "
                f"{tuple(items[0].shape)}"
            )
    longest = max(item.shape[0] for item in items)
    padded = []
    for item in items:
        missing = longest - item.shape[0]
        if missing:
            filler = ag.full((missing,) + trailing, padding_value, dtype=item.dtype)
            parts = [item, filler] if padding_side == "right" else [filler, item]
            item = ag.cat(parts)
        padded.append(item)
    return ag.stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (longest first unless ``enforce_sorted=False``).

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ag.tensor([1.0]), ag.tensor([2.0, 3.0])], enforce_sorted=False).batch_sizes
        tensor([2, 1])
    """
    lengths = [item.shape[0] for item in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """Split a padded batch back into its sequences (the inverse of ``pad_sequence``).

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import unpad_sequence
        >>> [t.tolist() for t in unpad_sequence(ag.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)]
        [[1.0, 2.0], [3.0]]
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :length] for b, length in enumerate(_lengths_array(lengths).tolist())]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Split a ``PackedSequence`` into its sequences, in the original order.

    Example:
        >>> import autograd as ag
        >>> from nn.utils.rnn import pack_sequence, unpack_sequence
        >>> seqs = [ag.tensor([1.0]), ag.tensor([2.0, 3.0])]
        >>> [t.tolist() for t in unpack_sequence(pack_sequence(seqs, enforce_sorted=False))]
        [[1.0], [2.0, 3.0]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
