"""A tiny transformer language model in the style of PyTorch's "Language Modeling with
nn.Transformer" tutorial, written once for PyTorch and graphgrad.

Token embeddings scaled by sqrt(d_model), sinusoidal positional encodings (a buffer filled
with strided slices), a causally masked ``nn.TransformerEncoder``, a linear head; the corpus
is batchified into columns and cut into ``bptt``-long chunks; cross-entropy over the
vocabulary, SGD with gradient clipping and ``StepLR``; then an evaluation pass.
"""

# ruff: noqa: B007  (loop variables named as the tutorials name them, even when unused)

from __future__ import annotations

import math


def build(torch, nn, ntoken, d_model=16, nhead=2, d_hid=32, nlayers=2, dropout=0.0):
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = torch.arange(max_len).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, 1, d_model)
            pe[:, 0, 0::2] = torch.sin(position * div_term)
            pe[:, 0, 1::2] = torch.cos(position * div_term)
            self.register_buffer("pe", pe)

        def forward(self, x):
            """x: ``(seq_len, batch_size, embedding_dim)``."""
            x = x + self.pe[: x.size(0)]
            return self.dropout(x)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers,
                                                             enable_nested_tensor=False)  # fmt: skip
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src, src_mask=None):
            """src: ``(seq_len, batch_size)`` token ids; returns ``(seq_len, batch_size, ntoken)``."""
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            if src_mask is None:
                src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
            output = self.transformer_encoder(src, src_mask)
            output = self.linear(output)
            return output

    return TransformerModel(ntoken, d_model, nhead, d_hid, nlayers, dropout)


def batchify(torch, data, bsz):
    """Divide the data into ``bsz`` separate sequences, removing extra elements that wouldn't
    cleanly fit: ``(N,)`` -> ``(N // bsz, bsz)``."""
    seq_len = data.size(0) // bsz
    data = data[: seq_len * bsz]
    data = data.view(bsz, seq_len).t().contiguous()
    return data


def get_batch(source, i, bptt):
    """The chunk of ``bptt`` rows starting at ``i`` and its targets (shifted by one), flat."""
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


def train(torch, nn, optim, model, tokens, ntokens, epochs=2, batch_size=4, bptt=8, lr=1.0):
    """Train on the token ids (a NumPy array); returns every step's loss and the evaluation
    loss of each epoch."""
    train_data = batchify(torch, torch.from_numpy(tokens), batch_size)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    losses, evaluations = [], []
    for epoch in range(epochs):
        model.train()
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i, bptt)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            loss = criterion(output_flat, targets)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, train_data.size(0) - 1, bptt):
                data, targets = get_batch(train_data, i, bptt)
                seq_len = data.size(0)
                output = model(data)
                output_flat = output.view(-1, ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        evaluations.append(total_loss / (len(train_data) - 1))
    return losses, evaluations
