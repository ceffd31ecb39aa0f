"""TransformerDecoderLayer, TransformerDecoder and Transformer against PyTorch with copied
weights: float64 outputs, input and parameter gradients, masks, options, init and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn

from parity import assert_close, copy_weights, import_torch, module_parity

torch = import_torch()

# PyTorch's own notes about its fast paths, not about the comparison.
pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning"),
]

RNG = np.random.default_rng(21)
E, HEADS, FF = 8, 2, 12


def _x(*shape):
    return np.asarray(RNG.standard_normal(shape))


def _causal(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def _lib_mask(lib, array):
    """The same mask as a tensor of either library (bool or float64)."""
    if array is None:
        return None
    if lib is torch.nn:
        return torch.from_numpy(array)
    return ag.tensor(array)


DECODER_CASES = [
    ("post_norm", {}, {}),
    ("pre_norm_gelu", {"norm_first": True, "activation": "gelu"}, {}),
    ("batch_first", {"batch_first": True}, {}),
    ("causal_tgt_mask", {}, {"tgt_mask": "causal"}),
    ("bool_masks", {}, {"tgt_mask": "bool", "memory_key_padding_mask": "padding"}),
    ("all_masks", {"batch_first": True}, {"tgt_mask": "causal", "memory_mask": "float", "tgt_key_padding_mask": "tgt_padding"}),
    ("no_bias", {"bias": False}, {}),
]  # fmt: skip


def _masks(spec, target, source, batch):
    masks = {}
    for name, kind in spec.items():
        if kind == "causal":
            masks[name] = _causal(target)
        elif kind == "bool":
            masks[name] = np.triu(np.ones((target, target), dtype=bool), 1)
        elif kind == "float":
            masks[name] = _x(target, source)
        elif kind == "padding":
            pad = np.zeros((batch, source), dtype=bool)
            pad[0, -2:] = True
            masks[name] = pad
        elif kind == "tgt_padding":
            pad = np.zeros((batch, target), dtype=bool)
            pad[1, -1] = True
            masks[name] = pad
    return masks


@pytest.mark.parametrize("name,options,mask_spec", DECODER_CASES, ids=[c[0] for c in DECODER_CASES])
def test_decoder_layer_matches_pytorch(name, options, mask_spec):
    target, source, batch = 5, 6, 3
    batch_first = options.get("batch_first", False)
    tgt = _x(batch, target, E) if batch_first else _x(target, batch, E)
    memory = _x(batch, source, E) if batch_first else _x(source, batch, E)
    masks = _masks(mask_spec, target, source, batch)

    def forward(module, t, m):
        lib = torch.nn if isinstance(module, torch.nn.Module) else nn
        return module(t, m, **{k: _lib_mask(lib, v) for k, v in masks.items()})

    module_parity(lambda lib: lib.TransformerDecoderLayer(E, HEADS, FF, dropout=0.0, **options),
                  [tgt, memory], forward=forward, rtol=1e-9, atol=1e-11)  # fmt: skip


def test_decoder_layer_unbatched_and_eval_mode_with_dropout():
    build = lambda lib: lib.TransformerDecoderLayer(E, HEADS, FF, dropout=0.3)  # noqa: E731
    module_parity(build, [_x(4, E), _x(6, E)], training=False, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("norm", [True, False])
def test_decoder_stack_matches_pytorch(norm):
    def build(lib):
        layer = lib.TransformerDecoderLayer(E, HEADS, FF, dropout=0.0)
        return lib.TransformerDecoder(layer, num_layers=2, norm=lib.LayerNorm(E) if norm else None)

    causal = _causal(4)

    def forward(module, t, m):
        lib = torch.nn if isinstance(module, torch.nn.Module) else nn
        return module(t, m, tgt_mask=_lib_mask(lib, causal))

    ours, theirs, _, _ = module_parity(build, [_x(4, 2, E), _x(3, 2, E)], forward=forward, rtol=1e-9, atol=1e-11)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.layers[0] is not ours.layers[1]  # deep copies, as PyTorch


TRANSFORMER_CASES = [
    ("default", {}, {}),
    ("batch_first_pre_norm", {"batch_first": True, "norm_first": True}, {"tgt_mask": "causal"}),
    ("masks", {"activation": "gelu"}, {"tgt_mask": "causal", "src_key_padding_mask": "padding",
                                       "memory_key_padding_mask": "padding"}),
]  # fmt: skip


@pytest.mark.parametrize("name,options,mask_spec", TRANSFORMER_CASES, ids=[c[0] for c in TRANSFORMER_CASES])
def test_transformer_matches_pytorch(name, options, mask_spec):
    source, target, batch = 6, 5, 2
    batch_first = options.get("batch_first", False)
    src = _x(batch, source, E) if batch_first else _x(source, batch, E)
    tgt = _x(batch, target, E) if batch_first else _x(target, batch, E)
    masks = _masks(mask_spec, target, source, batch)
    if "src_key_padding_mask" in masks:
        masks["src_key_padding_mask"] = masks["memory_key_padding_mask"]

    def forward(module, s, t):
        lib = torch.nn if isinstance(module, torch.nn.Module) else nn
        return module(s, t, **{k: _lib_mask(lib, v) for k, v in masks.items()})

    def build(lib):
        return lib.Transformer(E, HEADS, num_encoder_layers=2, num_decoder_layers=2,
                               dim_feedforward=FF, dropout=0.0, **options)  # fmt: skip

    ours, theirs, _, _ = module_parity(build, [src, tgt], forward=forward, rtol=1e-9, atol=1e-11)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_transformer_unbatched_matches_pytorch():
    def build(lib):
        return lib.Transformer(E, HEADS, 1, 1, FF, dropout=0.0)

    module_parity(build, [_x(6, E), _x(4, E)], rtol=1e-9, atol=1e-11)


def test_transformer_initialisation_and_mask():
    model = nn.Transformer(E, HEADS, 1, 1, FF)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6.0 / (E + FF))
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > bound / 2
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())  # fmt: skip
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64).dtype == ag.float64
    with pytest.raises(RuntimeError, match="CPU"):
        nn.Transformer.generate_square_subsequent_mask(3, device="cuda")
    assert [n for n, _ in model.named_modules()] == [n for n, _ in torch.nn.Transformer(E, HEADS, 1, 1, FF).named_modules()]


def test_causal_mask_detection_as_pytorch():
    from nn.transformer import _detect_is_causal_mask

    causal = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(causal, None, 4) is True
    assert _detect_is_causal_mask(ag.zeros(4, 4), None, 4) is False
    assert _detect_is_causal_mask(causal, None, 5) is False
    assert _detect_is_causal_mask(None, None, 4) is False
    assert _detect_is_causal_mask(ag.zeros(4, 4), True, 4) is True
    assert _detect_is_causal_mask(ag.tensor(np.triu(np.ones((3, 3), dtype=bool), 1)), None, 3) is True


def test_transformer_errors_as_pytorch():
    for lib, tensor in ((nn, ag.tensor), (torch.nn, torch.tensor)):
        model = lib.Transformer(E, HEADS, 1, 1, FF)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            model(tensor(np.ones((5, 2, E), np.float32)), tensor(np.ones((4, 3, E), np.float32)))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            model(tensor(np.ones((5, 2, E), np.float32)), tensor(np.ones((4, 2, E + 1), np.float32)))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerDecoderLayer(E, HEADS, activation="tanh")


def test_a_tiny_seq2seq_trains_step_for_step_like_pytorch():
    def build(lib):
        return lib.Transformer(E, HEADS, 1, 1, FF, dropout=0.0, batch_first=True)

    theirs = build(torch.nn).double()
    ours = build(nn).double()
    copy_weights(ours, theirs)
    src, tgt, target = _x(3, 6, E), _x(3, 5, E), _x(3, 5, E)
    mask = _causal(5)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05)
    import optim

    opt_o = optim.SGD(ours.parameters(), lr=0.05)
    for _ in range(3):
        opt_t.zero_grad()
        opt_o.zero_grad()
        loss_t = ((theirs(torch.from_numpy(src), torch.from_numpy(tgt), tgt_mask=torch.from_numpy(mask)) - torch.from_numpy(target)) ** 2).mean()
        loss_o = ((ours(ag.tensor(src), ag.tensor(tgt), tgt_mask=ag.tensor(mask)) - ag.tensor(target)) ** 2).mean()
        assert_close(loss_o, loss_t, rtol=1e-10)
        loss_t.backward()
        loss_o.backward()
        opt_t.step()
        opt_o.step()
