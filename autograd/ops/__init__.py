"""Every op family; importing this package registers them all."""

from . import (  # noqa: F401
    elementwise,
    index,
    linalg,
    matrix,
    rearrange,
    reduce,
    scan,
    shape,
    softmax,
    sort,
)
