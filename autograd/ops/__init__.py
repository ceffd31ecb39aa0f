"""Every op family; importing this package registers them all."""

from . import elementwise, index, linalg, reduce, scan, shape, softmax, sort  # noqa: F401
