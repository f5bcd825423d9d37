"""The notebook's ReLU LSTM in PyTorch, from PyTorch's and from Keras's initialisation.

Optional: harness does not need PyTorch. It is the outside check behind `"init": "keras"` in
experiments/lstm-vs-cnn.json. With PyTorch installed (pip install torch):

    python3 benchmarks/relu_lstm_init.py ../shared/data/fashion-mnist-prefix pytorch 1,2,3
    python3 benchmarks/relu_lstm_init.py ../shared/data/fashion-mnist-prefix keras 1,2,3

The model is LSTM 128 ReLU, LSTM 128 ReLU, Dense 32 ReLU, Dense 10, with rows as time steps,
trained for 5 epochs at batch 32 with Adam (lr 1e-3). Each seed prints its per-epoch training
loss and its test accuracy.
"""
import gzip
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(1)
directory, scheme, seeds = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
assert scheme in ("pytorch", "keras"), "scheme: pytorch or keras"


def idx(name):
    data = gzip.open(f"{directory}/{name}").read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        return np.frombuffer(data[16:], np.uint8).reshape(count, 28, 28).astype(np.float32) / 255
    return np.frombuffer(data[8:], np.uint8).astype(np.int64)


train_x, train_y = torch.tensor(idx("train-images-idx3-ubyte.gz")), torch.tensor(idx("train-labels-idx1-ubyte.gz"))
test_x, test_y = torch.tensor(idx("t10k-images-idx3-ubyte.gz")), torch.tensor(idx("t10k-labels-idx1-ubyte.gz"))


class ReLULSTM(nn.Module):
    """keras.layers.LSTM(activation='relu'): gates i, f, g, o; g and the output use ReLU."""

    def __init__(self, inputs, hidden):
        super().__init__()
        self.hidden = hidden
        self.wx = nn.Parameter(torch.empty(inputs, 4 * hidden))
        self.wh = nn.Parameter(torch.empty(hidden, 4 * hidden))
        self.b = nn.Parameter(torch.zeros(4 * hidden))
        if scheme == "pytorch":
            bound = 1 / hidden ** 0.5
            for p in (self.wx, self.wh, self.b):
                nn.init.uniform_(p, -bound, bound)
        else:
            nn.init.xavier_uniform_(self.wx)
            nn.init.orthogonal_(self.wh)
            with torch.no_grad():
                self.b[hidden:2 * hidden] = 1  # the forget gate

    def forward(self, x):  # (B, T, I) -> (B, T, H)
        h = x.new_zeros(x.shape[0], self.hidden)
        c = x.new_zeros(x.shape[0], self.hidden)
        inputs = x @ self.wx + self.b
        outputs = []
        for t in range(x.shape[1]):
            i, f, g, o = (inputs[:, t] + h @ self.wh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)
            h = torch.sigmoid(o) * torch.relu(c)
            outputs.append(h)
        return torch.stack(outputs, 1)


def dense(inputs, outputs):
    layer = nn.Linear(inputs, outputs)
    if scheme == "keras":
        nn.init.xavier_uniform_(layer.weight)
        nn.init.zeros_(layer.bias)
    return layer


for seed in seeds:
    torch.manual_seed(seed)
    first, second, hidden, output = ReLULSTM(28, 128), ReLULSTM(128, 128), dense(128, 32), dense(32, 10)

    def logits(x):
        return output(torch.relu(hidden(second(first(x))[:, -1])))

    optimizer = torch.optim.Adam([p for m in (first, second, hidden, output) for p in m.parameters()], 1e-3)
    losses = []
    for epoch in range(5):
        order = torch.randperm(len(train_x))
        total = 0.0
        for start in range(0, len(train_x), 32):
            batch = order[start:start + 32]
            loss = nn.functional.cross_entropy(logits(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(round(total / len(train_x), 4))
    with torch.no_grad():
        accuracy = (logits(test_x).argmax(1) == test_y).float().mean().item()
    print(f"{scheme} seed {seed}: training loss per epoch {losses}, test accuracy {accuracy:.4f}", flush=True)
