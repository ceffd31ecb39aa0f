"""A CNN classifier in the style of PyTorch's "Training a Classifier" tutorial, written once.

Small grey images through conv, batch norm, ReLU and max pooling, trained with a
``DataLoader`` that draws the samples in the order a custom ``Sampler`` gives (a user-written
sampler, as the data tutorials show), SGD with momentum and a ``StepLR`` schedule; then an
evaluation pass through a second loader built from a ``BatchSampler``. The same source runs on
PyTorch and graphgrad: the framework comes in as arguments.
"""

# ruff: noqa: B007  (loop variables named as the tutorials name them, even when unused)

from __future__ import annotations


def build(torch, nn):
    """The network (images ``(N, 1, 12, 12)``, four classes)."""
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(6)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 8, 3)
            self.fc1 = nn.Linear(8 * 2 * 2, 32)
            self.fc2 = nn.Linear(32, 4)

        def forward(self, x):
            x = self.pool(F.relu(self.bn1(self.conv1(x))))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)  # flatten all dimensions except batch
            x = F.relu(self.fc1(x))
            return self.fc2(x)

    return Net()


def train(torch, nn, optim, data, net, images, labels, order, epochs=2, dtype="float64"):
    """Train on ``images``/``labels`` (NumPy arrays) in the sample ``order`` of each epoch.

    Returns the loss of every step, the test accuracy (on the training images, in eval mode)
    and the predicted classes.
    """

    class InOrder(data.Sampler):
        """Yields the indices of ``order[epoch]``, one epoch after the other."""

        def __init__(self, orders):
            self.orders = orders
            self.epoch = 0

        def __iter__(self):
            indices = self.orders[self.epoch % len(self.orders)]
            self.epoch += 1
            return iter([int(i) for i in indices])

        def __len__(self):
            return len(self.orders[0])

    inputs = torch.from_numpy(images).to(getattr(torch, dtype))
    targets = torch.from_numpy(labels)
    dataset = data.TensorDataset(inputs, targets)
    trainloader = data.DataLoader(dataset, batch_size=16, sampler=InOrder(order))

    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    losses = []
    for epoch in range(epochs):
        net.train()
        running_loss = 0.0
        for i, batch in enumerate(trainloader, 0):
            inputs, labels_batch = batch
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels_batch)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            losses.append(loss.item())
        scheduler.step()

    testloader = data.DataLoader(
        dataset, batch_sampler=data.BatchSampler(data.SequentialSampler(dataset), 10, False)
    )
    correct = 0
    total = 0
    predictions = []
    net.eval()
    with torch.no_grad():
        for images_batch, labels_batch in testloader:
            outputs = net(images_batch)
            _, predicted = torch.max(outputs.data, 1)
            total += labels_batch.size(0)
            correct += (predicted == labels_batch).sum().item()
            predictions.extend(predicted.tolist())
    return losses, correct / total, predictions
