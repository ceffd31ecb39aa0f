"""Every op family; importing this package registers them all."""

from . import elementwise, index, linalg, reduce, shape, softmax  # noqa: F401
