"""PyTorch CPU baseline for `harness bench`: the same models, batch and thread counts.

Optional: harness does not need PyTorch. With PyTorch installed (pip install torch):

    python3 benchmarks/pytorch_baseline.py --model lstm --threads 2
    python3 benchmarks/pytorch_baseline.py --model cnn --threads 1

Prints one JSON object per run with train and inference samples/s (median of repeats),
on random 28x28 inputs like `harness bench` uses.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


class SequenceModel(nn.Module):
    """The paper's LSTM (or an RNN): rows as time steps, last hidden state -> Linear(10)."""

    def __init__(self, kind, layers, hidden):
        super().__init__()
        cell = nn.LSTM if kind == "lstm" else nn.RNN
        self.rnn = cell(28, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.rnn(x.view(-1, 28, 28))
        return self.head(out[:, -1, :])


def cnn():
    """The Keras notebook's CNN (002): Conv 32 3x3, MaxPool 2, Dense 128, Dense 32, Dense 10."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(32 * 13 * 13, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["lstm", "rnn", "cnn"], default="lstm")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = cnn() if args.model == "cnn" else SequenceModel(args.model, args.layers, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(args.batches, args.batch, 1, 28, 28)
    y = torch.randint(0, 10, (args.batches, args.batch))

    def train_pass():
        model.train()
        for i in range(args.batches):
            optimizer.zero_grad()
            loss_fn(model(x[i]), y[i]).backward()
            optimizer.step()

    def infer_pass():
        model.eval()
        with torch.no_grad():
            for i in range(args.batches):
                model(x[i]).argmax(1)

    train_pass()  # warm-up
    samples = args.batches * args.batch
    train, infer = [], []
    for _ in range(args.repeats):
        start = time.perf_counter(); train_pass(); train.append(samples / (time.perf_counter() - start))
        start = time.perf_counter(); infer_pass(); infer.append(samples / (time.perf_counter() - start))
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "model": args.model, "layers": args.layers,
                      "hidden": args.hidden, "batch": args.batch, "threads": args.threads,
                      "train_samples_per_second": round(statistics.median(train)),
                      "infer_samples_per_second": round(statistics.median(infer))}))


if __name__ == "__main__":
    main()
