"""PyTorch CPU peer for `harness bench`: the same models, batch, thread counts and protocol.

Optional: harness does not need PyTorch. With PyTorch installed (pip install torch):

    python3 benchmarks/peers/pytorch.py --model lstm --threads 2
    python3 benchmarks/peers/pytorch.py --model cnn --threads 1 --repeats 2 --batches 2

Prints one JSON line: train and inference samples/s (medians of the repeats; protocol.py), the
parameter count, and the variant (one here, "eager"). Threads: torch.set_num_threads.
The LSTM is torch.nn.LSTM, whose two bias vectors per layer (bias_ih, bias_hh) harness has too.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the repository
import protocol  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


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
    parser = protocol.parser(__doc__, models=("lstm", "rnn", "cnn"))
    args = parser.parse_args()
    protocol.chosen(args, parser, ["eager"])
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = cnn() if args.model == "cnn" else SequenceModel(args.model, args.layers, args.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = protocol.data(args)
    x = torch.from_numpy(x).view(args.batches, args.batch, 1, 28, 28)  # one channel: NHWC is NCHW
    y = torch.from_numpy(y).long()

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

    results = protocol.measure({"eager": (train_pass, infer_pass)}, args)
    parameters = sum(p.numel() for p in model.parameters())
    protocol.report(f"pytorch {torch.__version__}", args, parameters, results)


if __name__ == "__main__":
    main()
