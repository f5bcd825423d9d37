"""One harness job written as a plain PyTorch script, for benchmarks/grid-vs-pytorch.sh.

Optional: harness does not need PyTorch. The paper's final model (Shen, section 3.4): a
2-layer LSTM of 64 units reading the image's 28 rows as time steps, the last hidden state
into Linear(10), LogSoftmax + NLL loss, Adam (lr 0.001), batch 100, 10 epochs, then the
test accuracy. Data: the four Fashion-MNIST IDX files (gzipped or not) in DATA_DIR.

    python3 benchmarks/pytorch_job.py DATA_DIR --seed 1 [--epochs 10] [--threads 1]

Prints one JSON object: seed, test accuracy, training and total seconds.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(directory, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    raise SystemExit(f"{directory}: no {name}[.gz]")


class PaperLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 64, num_layers=2, batch_first=True)
        self.head = nn.Linear(64, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return torch.log_softmax(self.head(out[:, -1, :]), dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    start = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_x = torch.from_numpy(read_idx(args.data, "train-images-idx3-ubyte").astype(np.float32) / 255)
    train_y = torch.from_numpy(read_idx(args.data, "train-labels-idx1-ubyte").astype(np.int64))
    test_x = torch.from_numpy(read_idx(args.data, "t10k-images-idx3-ubyte").astype(np.float32) / 255)
    test_y = torch.from_numpy(read_idx(args.data, "t10k-labels-idx1-ubyte").astype(np.int64))

    model = PaperLSTM()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.NLLLoss()
    train_start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(len(train_x))
        for i in range(0, len(order), 100):
            batch = order[i:i + 100]
            optimizer.zero_grad()
            loss = loss_fn(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
    train_seconds = time.perf_counter() - train_start
    with torch.no_grad():
        correct = sum(int((model(test_x[i:i + 500]).argmax(1) == test_y[i:i + 500]).sum())
                      for i in range(0, len(test_x), 500))
    print(json.dumps({"seed": args.seed, "accuracy": correct / len(test_x), "train_seconds": round(train_seconds, 2),
                      "seconds": round(time.perf_counter() - start, 2)}))


if __name__ == "__main__":
    main()
