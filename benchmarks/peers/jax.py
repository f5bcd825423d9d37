"""JAX CPU peer for `harness bench`: the same models, batch, thread counts and protocol.

Optional: harness does not need JAX. Only jax and jaxlib are used (pip install "jax[cpu]"): the
layers and Adam are written here, every step is one jitted function.

    python3 benchmarks/peers/jax.py --model lstm --threads 2
    python3 benchmarks/peers/jax.py --model cnn --threads 1 --repeats 2 --batches 2

Prints one JSON line like benchmarks/peers/pytorch.py: train and inference samples/s (medians of
the repeats; protocol.py), the parameter count, and which variant was best for each:
- lstm: "scan" (lax.scan over the 28 time steps) and "unroll" (lax.scan with unroll=28);
- cnn: "jit" (lax.conv_general_dilated, lax.reduce_window) and "im2col" (the convolution as one
  product of the 9 shifted images by the kernel, the max-pool as a reshape and a max: XLA's CPU
  backward of the first two is slow).
Compilation happens in the warm-up and is not timed.

Threads: XLA's CPU client sizes its thread pool from the CPUs the process may run on, so the
process is limited to --threads CPUs (as taskset would) before jax is imported; with one thread
XLA_FLAGS also gets --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1. Each
variant's "cpu_per_wall" shows how many threads were busy.

The LSTM has two bias vectors per layer, like harness and torch.nn.LSTM, so that the parameter
counts match; they are added once per layer, outside the time loop.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# This file is called jax.py: its folder must not be on the path when the real jax is imported.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the repository
import protocol  # noqa: E402
sys.path.remove(HERE)


def main():
    parser = protocol.parser(__doc__)
    args = parser.parse_args()
    names = protocol.chosen(args, parser, ["scan", "unroll"] if args.model == "lstm" else ["jit", "im2col"])
    # Before jax is imported: its thread pool is made then.
    protocol.limit_cpus(args.threads)
    if args.threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    from functools import partial

    import jax
    import jax.numpy as jnp
    from jax import lax

    key = jax.random.PRNGKey(1)

    def uniform(shape, fan_in):
        nonlocal key
        key, sub = jax.random.split(key)
        bound = 1 / fan_in ** 0.5
        return jax.random.uniform(sub, shape, jnp.float32, -bound, bound)

    def dense(fan_in, fan_out):
        return {"w": uniform((fan_in, fan_out), fan_in), "b": uniform((fan_out,), fan_in)}

    def lstm_params():
        layers, size = [], 28
        for _ in range(args.layers):
            h = args.hidden
            layers.append({"w_ih": uniform((size, 4 * h), h), "w_hh": uniform((h, 4 * h), h),
                           "b_ih": uniform((4 * h,), h), "b_hh": uniform((4 * h,), h)})
            size = h
        return {"lstm": layers, "head": dense(size, 10)}

    def lstm_forward(unroll):
        def layer(p, xs):  # xs (T, B, I) -> hs (T, B, H)
            h = p["w_hh"].shape[0]
            xw = xs @ p["w_ih"] + (p["b_ih"] + p["b_hh"])  # every step's input projection at once

            def step(carry, xw_t):
                h_prev, c_prev = carry
                z = xw_t + h_prev @ p["w_hh"]
                i, f, g, o = jnp.split(z, 4, axis=-1)  # torch.nn.LSTM's gate order
                c = jax.nn.sigmoid(f) * c_prev + jax.nn.sigmoid(i) * jnp.tanh(g)
                h_t = jax.nn.sigmoid(o) * jnp.tanh(c)
                return (h_t, c), h_t

            zeros = jnp.zeros((xs.shape[1], h), xs.dtype)
            _, hs = lax.scan(step, (zeros, zeros), xw, unroll=unroll)
            return hs

        def forward(params, x, key, training):
            del key, training  # no dropout
            xs = jnp.transpose(x.reshape(x.shape[0], 28, 28), (1, 0, 2))  # rows as time steps
            for p in params["lstm"]:
                xs = layer(p, xs)
            return xs[-1] @ params["head"]["w"] + params["head"]["b"]
        return forward

    def cnn_params():
        return {"conv": {"w": uniform((3, 3, 1, 32), 9), "b": uniform((32,), 9)},
                "dense": [dense(13 * 13 * 32, 128), dense(128, 32), dense(32, 10)]}

    def conv_xla(x, w):  # x (B, 28, 28, 1), w (3, 3, 1, 32) -> (B, 26, 26, 32)
        return lax.conv_general_dilated(x, w, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))

    def pool_xla(y):
        return lax.reduce_window(y, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")

    def conv_im2col(x, w):  # the same as a product: the 9 shifted images by the (9, 32) kernel
        patches = jnp.stack([x[:, i:i + 26, j:j + 26, 0] for i in range(3) for j in range(3)], axis=-1)
        return patches @ w.reshape(9, 32)

    def pool_reshape(y):  # 2x2 max-pool of an even-sized image as a reshape and a max
        b, h, w, c = y.shape
        return y.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))

    def cnn_forward(conv, pool):
        return lambda params, x, key, training: cnn_head(params, pool(jax.nn.relu(conv(x, params["conv"]["w"])
                                                                                 + params["conv"]["b"])), key, training)

    def cnn_head(params, y, key, training):
        y = y.reshape(y.shape[0], -1)
        for index, p in enumerate(params["dense"]):
            y = y @ p["w"] + p["b"]
            if index < 2:
                y = jax.nn.relu(y)
                if training:  # Dropout(0.2)
                    key, sub = jax.random.split(key)
                    y = jnp.where(jax.random.bernoulli(sub, 0.8, y.shape), y / 0.8, 0)
        return y

    def adam(params, grads, state, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        """torch.optim.Adam's update (bias-corrected moments), as one jitted step with the rest."""
        t = state["t"] + 1
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
        scale = lr / (1 - b1 ** t)
        params = jax.tree.map(lambda p, m, v: p - scale * m / (jnp.sqrt(v / (1 - b2 ** t)) + eps), params, m, v)
        return params, {"t": t, "m": m, "v": v}

    def variant(init, forward):
        params = init()
        def zeros():  # m and v in buffers of their own (train_step donates both)
            return jax.tree.map(jnp.zeros_like, params)
        state = {"params": params, "opt": {"t": jnp.zeros((), jnp.float32), "m": zeros(), "v": zeros()}}

        def loss_fn(params, x, y, key):
            logits = forward(params, x, key, True)
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))

        @partial(jax.jit, donate_argnums=(0, 1))  # the new weights and moments reuse the old buffers
        def train_step(params, opt, x, y, key):
            grads = jax.grad(loss_fn)(params, x, y, jax.random.fold_in(key, opt["t"].astype(jnp.int32)))
            return adam(params, grads, opt)

        @jax.jit
        def predict(params, x):
            return jnp.argmax(forward(params, x, None, False), axis=1)

        def train_pass():
            params, opt = state["params"], state["opt"]
            for i in range(args.batches):
                params, opt = train_step(params, opt, xs[i], ys[i], dropout_key)
            jax.block_until_ready((params, opt))
            state["params"], state["opt"] = params, opt

        def infer_pass():
            jax.block_until_ready([predict(state["params"], xs[i]) for i in range(args.batches)])

        return (train_pass, infer_pass), sum(p.size for p in jax.tree.leaves(params))

    x, y = protocol.data(args)
    xs = [jnp.asarray(b) for b in x]  # on the device before timing, like the other peers' tensors
    ys = [jnp.asarray(b) for b in y]
    dropout_key = jax.random.PRNGKey(2)
    recipes = {"scan": lambda: variant(lstm_params, lstm_forward(1)),
               "unroll": lambda: variant(lstm_params, lstm_forward(28)),
               "jit": lambda: variant(cnn_params, cnn_forward(conv_xla, pool_xla)),
               "im2col": lambda: variant(cnn_params, cnn_forward(conv_im2col, pool_reshape))}
    built = {name: recipes[name]() for name in names}
    counts = {count for _, count in built.values()}
    assert len(counts) == 1
    results = protocol.measure({name: passes for name, (passes, _) in built.items()}, args)
    protocol.report(f"jax {jax.__version__}", args, counts.pop(), results)


if __name__ == "__main__":
    main()
