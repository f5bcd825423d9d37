#!/usr/bin/env python3
"""Regenerates every PyTorch reference value pasted into the Swift tests of this folder.

    python3 reference_values.py                   # every function, in file order
    python3 reference_values.py gru_tanh_forward  # only the named ones
    python3 reference_values.py --check           # that every test pastes what its function prints

Needs torch (2.x) and nothing else; the Swift build and tests never run this script.
Each Swift test whose literals come from here names the function that printed them,
and each function prints its literals in the order the test pastes them.

Conventions shared with the tests:
- formula(i, salt) = 0.5 * sin(0.37 * i + salt), evaluated in float64 over PyTorch's
  row-major layout. The engine stores weights input-major (the transpose of PyTorch's
  (out, in) matrices), so the Swift side writes W[in][out] = formula(out * rows + in).
- Forward references run in float64 and print 10 decimals (the engine is float32, so
  the tests compare with a tolerance). Optimizer references run in float32, as the
  engine does, and print each float32 value exactly (as the shortest double repr).
  The training reference (lstm_adam_losses) runs in float64 and prints every digit.
"""

import contextlib
import io
import math
import os
import re
import sys

import torch


def formula(count, salt):
    """float64 tensor of formula(i, salt) for i in 0..<count."""
    return torch.tensor([0.5 * math.sin(0.37 * i + salt) for i in range(count)], dtype=torch.float64)


def f10(values):
    """Swift array literal, 10 decimals (float64 forward references)."""
    return "[" + ", ".join(repr(round(float(v), 10)) for v in values) + "]"


def f32(values):
    """Swift array literal of float32 values, each printed exactly as a double."""
    return "[" + ", ".join(repr(float(v)) for v in values) + "]"


# MARK: recurrent forward passes (ReferenceTests.runTwoLayers)

INPUT, HIDDEN, STEPS, BATCH = 3, 4, 5, 2


def load_recurrent(module, gates, salt=0):
    """weight_ih, weight_hh, bias_ih, bias_hh of layer l from salts 4l+1 ... 4l+4 (+ salt)."""
    with torch.no_grad():
        for layer in range(module.num_layers):
            base = 4 * layer + salt
            inputs = INPUT if layer == 0 else HIDDEN
            getattr(module, f"weight_ih_l{layer}").copy_(formula(gates * HIDDEN * inputs, base + 1).view(-1, inputs))
            getattr(module, f"weight_hh_l{layer}").copy_(formula(gates * HIDDEN * HIDDEN, base + 2).view(-1, HIDDEN))
            getattr(module, f"bias_ih_l{layer}").copy_(formula(gates * HIDDEN, base + 3))
            getattr(module, f"bias_hh_l{layer}").copy_(formula(gates * HIDDEN, base + 4))


def two_layer_last_output(module, gates, salt=0):
    """h_{T-1} of the second layer, (B, H), for x (T, B, I) = formula(i, 10 + salt)."""
    module = module.double()
    load_recurrent(module, gates, salt)
    x = formula(STEPS * BATCH * INPUT, 10 + salt).view(STEPS, BATCH, INPUT)
    with torch.no_grad():
        out, _ = module(x)
    return out[-1].flatten()


def lstm_forward():
    """ReferenceTests.testLSTMMatchesPyTorch"""
    print(f10(two_layer_last_output(torch.nn.LSTM(INPUT, HIDDEN, num_layers=2), 4)))


def rnn_tanh_forward():
    """ReferenceTests.testRNNTanhMatchesPyTorch"""
    print(f10(two_layer_last_output(torch.nn.RNN(INPUT, HIDDEN, num_layers=2, nonlinearity="tanh"), 1)))


def rnn_relu_forward():
    """ReferenceTests.testRNNReLUMatchesPyTorch"""
    print(f10(two_layer_last_output(torch.nn.RNN(INPUT, HIDDEN, num_layers=2, nonlinearity="relu"), 1)))


class ManualGRU(torch.nn.Module):
    """torch.nn.GRU's equations written out, with the candidate's activation a choice:
    torch.nn.GRU has tanh only, and the engine's GRU also takes relu. Same parameter
    names and layout as torch.nn.GRU (checked against it for tanh in gru_tanh_forward)."""

    def __init__(self, input_size, hidden_size, num_layers, activation):
        super().__init__()
        self.num_layers, self.hidden_size, self.activation = num_layers, hidden_size, activation
        for layer in range(num_layers):
            inputs = input_size if layer == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{layer}", torch.nn.Parameter(torch.empty(3 * hidden_size, inputs)))
            self.register_parameter(f"weight_hh_l{layer}", torch.nn.Parameter(torch.empty(3 * hidden_size, hidden_size)))
            self.register_parameter(f"bias_ih_l{layer}", torch.nn.Parameter(torch.empty(3 * hidden_size)))
            self.register_parameter(f"bias_hh_l{layer}", torch.nn.Parameter(torch.empty(3 * hidden_size)))

    def forward(self, x):
        for layer in range(self.num_layers):
            w_ih, w_hh = getattr(self, f"weight_ih_l{layer}"), getattr(self, f"weight_hh_l{layer}")
            b_ih, b_hh = getattr(self, f"bias_ih_l{layer}"), getattr(self, f"bias_hh_l{layer}")
            h = x.new_zeros(x.shape[1], self.hidden_size)
            outputs = []
            for x_t in x:
                gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
                (i_r, i_z, i_n), (h_r, h_z, h_n) = gi.chunk(3, 1), gh.chunk(3, 1)
                r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
                n = self.activation(i_n + r * h_n)
                h = n + z * (h - n)
                outputs.append(h)
            x = torch.stack(outputs)
        return x, None


def gru_tanh_forward():
    """ReferenceTests.testGRUTanhMatchesPyTorch"""
    reference = two_layer_last_output(torch.nn.GRU(INPUT, HIDDEN, num_layers=2), 3)
    manual = two_layer_last_output(ManualGRU(INPUT, HIDDEN, 2, torch.tanh), 3)
    assert torch.allclose(reference, manual, rtol=0, atol=1e-12), "ManualGRU differs from torch.nn.GRU"
    print(f10(reference))


def gru_relu_forward():
    """ReferenceTests.testGRUReLUMatchesPyTorch (ManualGRU with relu: torch.nn.GRU has tanh only),
    every salt + 3: with the others, every candidate of the second layer is negative and
    its outputs are all 0."""
    print(f10(two_layer_last_output(ManualGRU(INPUT, HIDDEN, 2, torch.relu), 3, salt=3)))


# MARK: optimizers and loss

START = [1.0, -2.0, 0.5, 0.0]
GRADIENTS = [[0.1, -0.2, 0.3, 0.0], [-0.05, 0.4, 0.3, 1.0]]


def optimizer_trajectory(make, start, gradients):
    """The float32 weights after each step of `make([w])` fed `gradients`."""
    w = torch.tensor(start, dtype=torch.float32, requires_grad=True)
    optimizer = make([w])
    steps = []
    for g in gradients:
        w.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
        steps.append(w.detach().clone())
    return steps


def optimizer_steps():
    """ReferenceTests.testOptimizerStepsMatchPyTorch: Adam(lr=0.01), then SGD(lr=0.1, momentum=0.9)."""
    for make in [lambda p: torch.optim.Adam(p, lr=0.01), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)]:
        print(", ".join(f32(step) for step in optimizer_trajectory(make, START, GRADIENTS)))


def log_softmax_extreme():
    """ReferenceTests.testLogSoftmaxOnExtremeLogitsIsFinite: log_softmax, then the mean cross-entropy."""
    logits = torch.tensor([[1000, -1000, 0], [1, 2, 3]], dtype=torch.float32)
    print(f32(torch.log_softmax(logits, dim=1).flatten()))
    print(repr(float(torch.nn.functional.cross_entropy(logits, torch.tensor([1, 2])))))


# Weight decay: five weights (one of them 0 with zero gradients throughout, so only decay
# could move it, and decay of 0 is 0), three steps.
DECAY_START = [1.0, -2.0, 0.5, 0.0, 3.0]
DECAY_GRADIENTS = [[0.1, -0.2, 0.3, 0.0, -0.4], [-0.05, 0.4, 0.3, 0.0, 0.2], [0.2, 0.1, -0.3, 0.0, 0.0]]


def weight_decay_steps():
    """ReferenceTests.testWeightDecayMatchesPyTorch: Adam(lr=0.01, weight_decay=0.1),
    AdamW(lr=0.01, weight_decay=0.5), SGD(lr=0.1, momentum=0.9, weight_decay=0.05)."""
    makers = [
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.05),
    ]
    for make in makers:
        print(",\n".join(f32(step) for step in optimizer_trajectory(make, DECAY_START, DECAY_GRADIENTS)))


# MARK: training (ReferenceTests.testTwoLayerLSTMAdamLossesMatchPyTorch)

# A 2-layer LSTM classifier as the engine builds it (SequenceClassifier, rows as time
# steps, no hidden dense layer): 4 steps of 3 pixels, 5 hidden units, 3 classes.
TRAIN_STEPS, TRAIN_FEATURES, TRAIN_HIDDEN, TRAIN_CLASSES, TRAIN_BATCH = 4, 3, 5, 3, 6


def float32_formula(count, salt):
    """formula(i, salt) rounded to float32 (as the engine stores it), in float64."""
    return formula(count, salt).float().double()


def lstm_adam_losses():
    """ReferenceTests.testTwoLayerLSTMAdamLossesMatchPyTorch: the mean cross-entropy of a
    2-layer LSTM + Linear before and after each of three torch.optim.Adam(lr=0.02) steps, in
    float64 from float32-rounded weights and inputs."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(TRAIN_FEATURES, TRAIN_HIDDEN, num_layers=2).double()
    head = torch.nn.Linear(TRAIN_HIDDEN, TRAIN_CLASSES).double()
    # Parameter k (in the engine's order: weight_ih, weight_hh, bias_ih, bias_hh per layer,
    # then the head's weight and bias) = formula(i, 20 + k) over PyTorch's layout.
    parameters = [getattr(lstm, f"{name}_l{layer}") for layer in range(2)
                  for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]] + [head.weight, head.bias]
    with torch.no_grad():
        for k, parameter in enumerate(parameters):
            parameter.copy_(float32_formula(parameter.numel(), 20 + k).view_as(parameter))
    # Image b, row t, column i holds pixel (37 * n + 11) % 256, n = (b * T + t) * I + i; label b % 3.
    count = TRAIN_BATCH * TRAIN_STEPS * TRAIN_FEATURES
    pixels = torch.tensor([(37 * n + 11) % 256 for n in range(count)], dtype=torch.float32)
    # x = pixel * Float(1 / 255) in float32, as the engine's loadBatch; then (T, B, I).
    x = (pixels * torch.tensor(1 / 255, dtype=torch.float32)).double()
    x = x.view(TRAIN_BATCH, TRAIN_STEPS, TRAIN_FEATURES).transpose(0, 1)
    labels = torch.tensor([b % TRAIN_CLASSES for b in range(TRAIN_BATCH)])
    optimizer = torch.optim.Adam(parameters, lr=0.02)

    def loss():
        out, _ = lstm(x)
        return torch.nn.functional.cross_entropy(head(out[-1]), labels)

    losses, smallest = [], []
    for step in range(4):
        optimizer.zero_grad()
        value = loss()
        losses.append(value.item())
        if step == 3:
            break
        value.backward()
        # Adam's first steps move each weight by about lr·sign(g): a gradient near the
        # float32 noise of the engine's would make the two disagree on a whole step.
        smallest.append(min(float(p.grad.abs().min()) for p in parameters))
        optimizer.step()
    print("[" + ", ".join(repr(v) for v in losses) + "]")
    print(f"# smallest |gradient| at each step: {', '.join(f'{v:.2e}' for v in smallest)}")


FUNCTIONS = [lstm_forward, rnn_tanh_forward, rnn_relu_forward, gru_tanh_forward, gru_relu_forward, optimizer_steps,
             log_softmax_extreme, weight_decay_steps, lstm_adam_losses]


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def printed(function):
    """The numbers `function` prints, comment lines left out."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        function()
    lines = [line for line in output.getvalue().splitlines() if not line.startswith("#")]
    return [float(n) for n in NUMBER.findall("\n".join(lines))]


def check():
    """Checks that every Swift test naming a function here pastes the numbers it prints,
    in order (the test may hold other numbers between them); exits non-zero if not."""
    folder = os.path.dirname(os.path.abspath(__file__))
    functions = {f.__name__: f for f in FUNCTIONS}
    seen, failures = set(), []
    for file in sorted(os.listdir(folder)):
        if not file.endswith(".swift"):
            continue
        text = open(os.path.join(folder, file)).read()
        for match in re.finditer(r"reference_values\.py: (\w+)", text):
            name = match.group(1)
            if name not in functions:
                failures.append(f"{file}: names unknown function {name}")
                continue
            seen.add(name)
            # The test's body: from its func to the first line closing it at the same indent.
            start = text.index("func test", match.end())
            end = text.index("\n    }\n", start)
            pasted = [float(n) for n in NUMBER.findall(text[start:end])]
            expected, position = printed(functions[name]), 0
            for value in expected:
                while position < len(pasted) and pasted[position] != value:
                    position += 1
                if position == len(pasted):
                    failures.append(f"{file}: {name} prints {value!r}, missing (or out of order) in the test")
                    break
                position += 1
            else:
                print(f"ok   {file}: {name} ({len(expected)} values)")
    failures += [f"no test names {name}" for name in functions if name not in seen]
    for failure in failures:
        print(f"FAIL {failure}")
    sys.exit(1 if failures else 0)


def main(arguments):
    if arguments == ["--check"]:
        check()
    names = arguments
    unknown = set(names) - {f.__name__ for f in FUNCTIONS}
    if unknown:
        sys.exit(f"unknown function(s): {', '.join(sorted(unknown))}; known: {', '.join(f.__name__ for f in FUNCTIONS)}")
    for function in FUNCTIONS:
        if names and function.__name__ not in names:
            continue
        print(f"# {function.__name__}: {' '.join(function.__doc__.split())}")
        function()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
