"""Every op family; importing this package registers them all."""

from . import (  # noqa: F401
    compare,
    elementwise,
    index,
    linalg,
    matrix,
    rearrange,
    reduce,
    scan,
    scatter,
    shape,
    softmax,
    sort,
    special,
)
