"""Hypothesis input strategies for the losses in the registry-wide gradient test.

Called lazily (inside each ``sample=`` factory), so ``nn`` itself never needs Hypothesis.
Class-index targets (int64) and class weights are options (arrays); regression targets keep ``|input - target|`` away from
the kinks at 0 and 1 (beta, delta), so finite differences are valid.
"""

from __future__ import annotations

from typing import Any

from autograd.domains import Domain


def loss_sample(kind: str) -> Any:
    """A strategy drawing ``(args, kwargs)`` for the loss ``kind`` (small float64 inputs)."""
    from hypothesis import strategies as st

    from autograd.testing import arrays

    from ._samples import integers, tensor

    @st.composite
    def draw_inputs(draw: Any) -> tuple[list, dict]:
        reduction = draw(st.sampled_from(["mean", "sum", "none"]))
        if kind in ("cross_entropy", "nll_loss"):
            classes = draw(st.integers(2, 4))
            layout = draw(st.sampled_from(["N", "unbatched", "spatial"]))
            shape: tuple[int, ...]
            target_shape: tuple[int, ...]
            batch = draw(st.integers(1, 3))
            if layout == "unbatched":
                shape, target_shape = (classes,), ()
            elif layout == "N":
                shape, target_shape = (batch, classes), (batch,)
            else:
                extra = draw(st.integers(1, 2))
                shape, target_shape = (batch, classes, extra), (batch, extra)
            x = tensor(draw, shape)
            labels = integers(draw, target_shape, classes)
            if draw(st.booleans()) and labels.size > 1:
                # Ignore one entry (never all of them: an all-ignored mean is nan, as PyTorch).
                labels.flat[0] = -100
            # Targets and class weights are options: the loss is not differentiable in them.
            options: dict = {"target": labels, "reduction": reduction}
            if draw(st.booleans()):
                options["weight"] = draw(arrays((classes,), Domain(0.2, 2.0)))
            if kind == "cross_entropy" and draw(st.booleans()):
                options["label_smoothing"] = draw(st.sampled_from([0.1, 0.3]))
            return [x], options
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        if kind == "binary_cross_entropy":
            x = tensor(draw, shape, Domain(0.05, 0.95))
            target = tensor(draw, shape, Domain(0.0, 1.0))
            options = {"reduction": reduction}
            if draw(st.booleans()):
                options["weight"] = draw(arrays(shape[-1:], Domain(0.2, 2.0)))
            return [x, target], options
        if kind == "binary_cross_entropy_with_logits":
            x = tensor(draw, shape)
            target = tensor(draw, shape, Domain(0.0, 1.0))
            options = {"reduction": reduction}
            if draw(st.booleans()):
                options["weight"] = draw(arrays(shape[-1:], Domain(0.2, 2.0)))
            if draw(st.booleans()):
                options["pos_weight"] = draw(arrays(shape[-1:], Domain(0.2, 3.0)))
            return [x, target], options
        if kind == "kl_div":
            log_target = draw(st.booleans())
            x = tensor(draw, shape)
            target = tensor(draw, shape, Domain() if log_target else Domain(0.05, 1.0))
            reduction = draw(st.sampled_from(["batchmean", "sum", "none"]))
            return [x, target], {"reduction": reduction, "log_target": log_target}
        # Regression losses: keep |input - target| away from the kinks (0, beta, delta).
        x = tensor(draw, shape)
        offsets = tensor(
            draw, shape, Domain(-3.0, 3.0, away_from=(-1.0, 0.0, 1.0)), requires_grad=False
        )
        target = (x.detach() - offsets).requires_grad_(True)
        options = {"reduction": reduction}
        if kind == "smooth_l1_loss":
            options["beta"] = 1.0
        if kind == "huber_loss":
            options["delta"] = 1.0
        return [x, target], options

    return draw_inputs()
