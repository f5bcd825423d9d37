"""TensorFlow/Keras 3 CPU peer for `harness bench`: the same models, batch, thread counts and protocol.

Optional: harness does not need TensorFlow (pip install tensorflow-cpu, or tensorflow).

    python3 benchmarks/peers/tensorflow.py --model lstm --threads 2
    python3 benchmarks/peers/tensorflow.py --model cnn --threads 1 --repeats 2 --batches 2
    python3 benchmarks/peers/tensorflow.py --model lstm --variants xla,xla+unroll

Prints one JSON line like benchmarks/peers/pytorch.py: train and inference samples/s (medians of
the repeats; protocol.py), the parameter count, and which variant was best for each, among:
- "default": a tf.function training step (GradientTape, Keras Adam) and inference step, with
  TensorFlow's own choice of oneDNN (TF_ENABLE_ONEDNN_OPTS unset; x86 Linux builds turn it on);
- "xla": the same steps with jit_compile=True;
- "onednn": as default, with TF_ENABLE_ONEDNN_OPTS=1;
- the LSTM also each of these with unroll=True ("unroll", "xla+unroll", "onednn+unroll");
- "eigen" and "eigen+unroll" (TF_ENABLE_ONEDNN_OPTS=0) only when asked for with --variants.
Each variant runs in a process of its own (the environment variable is read when TensorFlow
loads), one after the other; tracing and XLA compilation happen in the warm-up, not timed.

Threads: tf.config.threading intra-op = --threads and inter-op = 1, set before anything runs.
Each variant's "cpu_per_wall" shows how many threads were busy.

The LSTM is two keras.layers.RNN over an LSTMCell to which a second (recurrent) bias vector is
added, as harness and torch.nn.LSTM have one: the parameter counts match. On a CPU
keras.layers.LSTM runs this same loop over LSTMCell (its fused path is cuDNN's, GPU only).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# This file is called tensorflow.py: its folder must not be on the path when the real one is imported.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the repository
import protocol  # noqa: E402
sys.path.remove(HERE)

# name -> (TF_ENABLE_ONEDNN_OPTS or None for TensorFlow's default, jit_compile, unroll)
VARIANTS = {
    "default": (None, False, False), "xla": (None, True, False), "onednn": ("1", False, False),
    "unroll": (None, False, True), "xla+unroll": (None, True, True), "onednn+unroll": ("1", False, True),
    "eigen": ("0", False, False), "eigen+unroll": ("0", False, True),
}


def default_variants(model):
    names = ["default", "xla", "onednn"]
    return names if model == "cnn" else names + ["unroll", "xla+unroll", "onednn+unroll"]


def run_variant(args):
    """In the child process: one variant, its JSON line on stdout."""
    _, jit, unroll = VARIANTS[args.variant]
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    keras.utils.set_random_seed(1)

    class LSTMCell(keras.layers.LSTMCell):
        """keras.layers.LSTMCell with bias = bias_ih + bias_hh, as torch.nn.LSTM and harness."""

        def build(self, input_shape):
            super().build(input_shape)
            self.recurrent_bias = self.add_weight(shape=(4 * self.units,), name="recurrent_bias", initializer="zeros")

        @property
        def bias(self):
            input_bias = self.__dict__.get("_input_bias")
            if input_bias is None or not hasattr(self, "recurrent_bias"):
                return input_bias
            return input_bias + self.recurrent_bias

        @bias.setter
        def bias(self, value):  # LSTMCell.build sets self.bias
            self.__dict__["_input_bias"] = value

    if args.model == "cnn":  # the Keras notebook's CNN (002)
        layers = [keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                  keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"), keras.layers.Dropout(0.2),
                  keras.layers.Dense(32, activation="relu"), keras.layers.Dropout(0.2), keras.layers.Dense(10)]
    else:  # the paper's LSTM: rows as time steps, last hidden state -> Dense(10)
        layers = [keras.Input((28, 28, 1)), keras.layers.Reshape((28, 28))]
        for index in range(args.layers):
            layers.append(keras.layers.RNN(LSTMCell(args.hidden), return_sequences=index < args.layers - 1, unroll=unroll))
        layers.append(keras.layers.Dense(10))
    model = keras.Sequential(layers)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer.build(model.trainable_variables)

    @tf.function(jit_compile=jit)
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(jit_compile=jit)
    def predict(x):
        return tf.argmax(model(x, training=False), axis=1)

    x, y = protocol.data(args)
    xs = [tf.constant(b) for b in x]
    ys = [tf.constant(b) for b in y]

    def train_pass():
        for i in range(args.batches):
            loss = train_step(xs[i], ys[i])
        loss.numpy()

    def infer_pass():
        for i in range(args.batches):
            predict(xs[i]).numpy()

    results = protocol.measure({args.variant: (train_pass, infer_pass)}, args)
    protocol.report(f"tensorflow {tf.__version__} (keras {keras.__version__})", args, model.count_params(), results)


def main():
    parser = protocol.parser(__doc__)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # in the child process
    args = parser.parse_args()
    if args.variant:
        return run_variant(args)
    available = [name for name, (_, _, unroll) in VARIANTS.items() if args.model != "cnn" or not unroll]
    names = protocol.chosen(args, parser, available, default_variants(args.model))
    # The children get every option given here, and the variant.
    common = [f"--{key}={value}" for key, value in vars(args).items() if key not in ("variants", "variant")]
    results, framework, parameters = {}, None, None
    for name in names:
        onednn = VARIANTS[name][0]
        env = dict(os.environ)
        env.pop("TF_ENABLE_ONEDNN_OPTS", None)
        if onednn is not None:
            env["TF_ENABLE_ONEDNN_OPTS"] = onednn
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        child = subprocess.run([sys.executable, os.path.abspath(__file__), *common, f"--variant={name}"],
                               env=env, capture_output=True, text=True)
        lines = child.stdout.strip().splitlines()
        if child.returncode != 0 or not lines:
            error = (child.stderr.strip().splitlines() or ["exit status %d" % child.returncode])[-1]
            print(f"tensorflow variant {name} failed: {error}", file=sys.stderr)
            results[name] = {"error": error[-300:]}
            continue
        line = json.loads(lines[-1])
        framework, parameters = line["framework"], line["parameters"]
        results[name] = line["variants"][name]
    if framework is None:
        sys.exit("every tensorflow variant failed")
    protocol.report(framework, args, parameters, results)


if __name__ == "__main__":
    main()
