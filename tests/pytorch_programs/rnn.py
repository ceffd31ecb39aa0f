"""RNN classifiers in the style of PyTorch's "Classifying Names with a Character-Level RNN".

``CharRNN`` reads one-hot letters with ``nn.RNN`` and classifies a name from the last hidden
state (``NLLLoss`` on ``LogSoftmax``, one name at a time, the batch's losses summed, gradients
clipped). ``LSTMClassifier`` is the batched form: embeddings, padded batches packed for a
bidirectional ``nn.LSTM``, Adam. The same source runs on PyTorch and graphgrad: the framework
comes in as arguments.
"""

from __future__ import annotations


def build_char_rnn(torch, nn, n_letters, n_hidden, n_categories):
    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            output = self.h2o(hidden[0])
            output = self.softmax(output)
            return output

    return CharRNN(n_letters, n_hidden, n_categories)


def line_to_tensor(torch, line, all_letters, dtype):
    """A ``(line_length, 1, n_letters)`` tensor of one-hot letter vectors."""
    tensor = torch.zeros(len(line), 1, len(all_letters), dtype=dtype)
    for li, letter in enumerate(line):
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def train_char_rnn(torch, nn, optim, rnn, names, labels, all_letters, batches,
                   learning_rate=0.15, dtype="float64"):  # fmt: skip
    """One optimizer step per batch of name indices; returns the mean loss of each batch and
    the predicted category of every name afterwards."""
    dtype = getattr(torch, dtype)
    criterion = nn.NLLLoss()
    optimizer = optim.SGD(rnn.parameters(), lr=learning_rate)
    rnn.train()
    losses = []
    for batch in batches:
        batch_loss = 0
        for i in batch:
            label_tensor = torch.tensor([labels[i]], dtype=torch.long)
            text_tensor = line_to_tensor(torch, names[i], all_letters, dtype)
            output = rnn(text_tensor)
            loss = criterion(output, label_tensor)
            batch_loss += loss
        batch_loss.backward()
        nn.utils.clip_grad_norm_(rnn.parameters(), 3)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(batch_loss.item() / len(batch))
    rnn.eval()
    with torch.no_grad():
        guesses = [rnn(line_to_tensor(torch, name, all_letters, dtype)).topk(1)[1][0].item()
                   for name in names]  # fmt: skip
    return losses, guesses


def build_lstm(torch, nn, vocab_size, embed_dim, hidden_size, n_classes):
    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(2 * hidden_size, n_classes)

        def forward(self, ids, lengths):
            embedded = self.embedding(ids)
            packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True,
                                                       enforce_sorted=False)  # fmt: skip
            _, (hidden, _) = self.lstm(packed)
            return self.fc(torch.cat([hidden[-2], hidden[-1]], dim=1))

    return LSTMClassifier()


def train_lstm(torch, nn, optim, model, sequences, labels, batches, lr=0.01):
    """Adam on padded batches of token-id sequences; returns each step's loss."""
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for batch in batches:
        seqs = [torch.tensor(sequences[i]) for i in batch]
        lengths = torch.tensor([len(s) for s in seqs])
        ids = nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=0)
        target = torch.tensor([labels[i] for i in batch])
        optimizer.zero_grad()
        loss = criterion(model(ids, lengths), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
