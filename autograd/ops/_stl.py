"""The libstdc++ algorithms PyTorch's CPU kernels call, step for step, to break ties as it does.

``topk`` (``std::partial_sort``, ``std::nth_element`` + ``std::sort``) and ``mode``
(``std::sort``) order equal values by where these algorithms happen to move them, and
``kthvalue`` by PyTorch's own quickselect. The ops use NumPy whenever no ties are involved;
a slice with ties goes through these emulations (Python loops over ``(value, index)`` pairs)
so that the index returned, and hence where the gradient goes, is PyTorch's.
"""

from __future__ import annotations

from typing import Any, Callable

Compare = Callable[[Any, Any], bool]

_THRESHOLD = 16  # libstdc++'s _S_threshold: below it, sorting is by insertion


def _lg(n: int) -> int:
    return n.bit_length() - 1


def sort(items: list, comp: Compare) -> None:
    """``std::sort``: introsort (median-of-3 quicksort, heapsort fallback), then insertion."""
    if len(items) > 1:
        _introsort_loop(items, 0, len(items), 2 * _lg(len(items)), comp)
        _final_insertion_sort(items, 0, len(items), comp)


def nth_element(items: list, nth: int, comp: Compare) -> None:
    """``std::nth_element``: introselect, then insertion sort of the last small range."""
    if not items or nth == len(items):
        return
    first, last, depth = 0, len(items), 2 * _lg(len(items))
    while last - first > 3:
        if depth == 0:
            _heap_select(items, first, nth + 1, last, comp)
            items[first], items[nth] = items[nth], items[first]
            return
        depth -= 1
        cut = _unguarded_partition_pivot(items, first, last, comp)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(items, first, last, comp)


def partial_sort(items: list, middle: int, comp: Compare) -> None:
    """``std::partial_sort``: heap-select the first ``middle``, then heap-sort them."""
    _heap_select(items, 0, middle, len(items), comp)
    _sort_heap(items, 0, middle, comp)


def _introsort_loop(items: list, first: int, last: int, depth: int, comp: Compare) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:
            _heap_select(items, first, last, last, comp)
            _sort_heap(items, first, last, comp)
            return
        depth -= 1
        cut = _unguarded_partition_pivot(items, first, last, comp)
        _introsort_loop(items, cut, last, depth, comp)
        last = cut


def _final_insertion_sort(items: list, first: int, last: int, comp: Compare) -> None:
    if last - first > _THRESHOLD:
        _insertion_sort(items, first, first + _THRESHOLD, comp)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(items, i, comp)
    else:
        _insertion_sort(items, first, last, comp)


def _insertion_sort(items: list, first: int, last: int, comp: Compare) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if comp(items[i], items[first]):
            value = items[i]
            items[first + 1 : i + 1] = items[first:i]
            items[first] = value
        else:
            _unguarded_linear_insert(items, i, comp)


def _unguarded_linear_insert(items: list, last: int, comp: Compare) -> None:
    value = items[last]
    previous = last - 1
    while comp(value, items[previous]):
        items[last] = items[previous]
        last = previous
        previous -= 1
    items[last] = value


def _unguarded_partition_pivot(items: list, first: int, last: int, comp: Compare) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(items, first, first + 1, mid, last - 1, comp)
    return _unguarded_partition(items, first + 1, last, first, comp)


def _move_median_to_first(items: list, result: int, a: int, b: int, c: int,
                          comp: Compare) -> None:  # fmt: skip
    if comp(items[a], items[b]):
        if comp(items[b], items[c]):
            pick = b
        elif comp(items[a], items[c]):
            pick = c
        else:
            pick = a
    elif comp(items[a], items[c]):
        pick = a
    elif comp(items[b], items[c]):
        pick = c
    else:
        pick = b
    items[result], items[pick] = items[pick], items[result]


def _unguarded_partition(items: list, first: int, last: int, pivot: int, comp: Compare) -> int:
    while True:
        while comp(items[first], items[pivot]):
            first += 1
        last -= 1
        while comp(items[pivot], items[last]):
            last -= 1
        if not first < last:
            return first
        items[first], items[last] = items[last], items[first]
        first += 1


def _heap_select(items: list, first: int, middle: int, last: int, comp: Compare) -> None:
    _make_heap(items, first, middle, comp)
    for i in range(middle, last):
        if comp(items[i], items[first]):
            _pop_heap(items, first, middle, i, comp)


def _make_heap(items: list, first: int, last: int, comp: Compare) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(items, first, parent, length, items[first + parent], comp)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(items: list, first: int, last: int, result: int, comp: Compare) -> None:
    value = items[result]
    items[result] = items[first]
    _adjust_heap(items, first, 0, last - first, value, comp)


def _sort_heap(items: list, first: int, last: int, comp: Compare) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(items, first, last, last, comp)


def _adjust_heap(items: list, first: int, hole: int, length: int, value: Any,
                 comp: Compare) -> None:  # fmt: skip
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if comp(items[first + child], items[first + child - 1]):
            child -= 1
        items[first + hole] = items[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        items[first + hole] = items[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and comp(items[first + parent], value):
        items[first + hole] = items[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    items[first + hole] = value


def torch_quickselect(items: list, k: int, greater: Compare) -> None:
    """PyTorch's own ``quick_select_template`` (Sedgewick's partition), used by kthvalue."""
    left, right = 0, len(items) - 1
    while True:
        if right <= left:
            return
        if right == left + 1:
            if greater(items[left], items[right]):
                items[left], items[right] = items[right], items[left]
            return
        pivot_at = (left + right) >> 1
        items[pivot_at], items[left + 1] = items[left + 1], items[pivot_at]
        if greater(items[left + 1], items[right]):
            items[left + 1], items[right] = items[right], items[left + 1]
        if greater(items[left], items[right]):
            items[left], items[right] = items[right], items[left]
        if greater(items[left + 1], items[left]):
            items[left + 1], items[left] = items[left], items[left + 1]
        i, j = left + 1, right
        pivot = items[left]
        while True:
            i += 1
            while greater(pivot, items[i]):
                i += 1
            j -= 1
            while greater(items[j], pivot):
                j -= 1
            if j < i:
                break
            items[i], items[j] = items[j], items[i]
        items[left], items[j] = items[j], items[left]
        if j <= k:
            left = i
        if j >= k:
            right = j - 1
