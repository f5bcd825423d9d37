"""What every peer script shares with `harness bench`: options, data, timing and the JSON line.

The protocol: random 28x28 inputs in [0, 1) and random labels (seed 1), `--batches` batches of
`--batch` samples; every variant first runs one training pass and one inference pass that are not
timed (compilation, tracing, first-touch of memory), then `--repeats` timed repeats, each a
training pass (forward, backward and Adam step on every batch) followed by an inference pass
(forward only, argmax). With several variants the repeats are interleaved, variant by variant, so
that none always runs on caches another one warmed. The figures are the medians of the repeats.

Only numpy is needed here; each framework's script imports its own framework.
"""
import argparse
import json
import os
import statistics
import time


def parser(doc, models=("lstm", "cnn")):
    """The options of `harness bench` that the peers share, with the same defaults."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=models, default="lstm")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variants", help="comma-separated: only these variants (default: every one the script has)")
    return parser


def chosen(args, parser, available, default=None):
    """The variants to run: --variants, checked against `available`, or `default` (all)."""
    names = args.variants.split(",") if args.variants else list(default or available)
    for name in names:
        if name not in available:
            parser.error(f"unknown variant {name!r} for {args.model}; known: {', '.join(available)}")
    return names


def data(args):
    """x (batches, batch, 28, 28, 1) float32 in [0, 1), y (batches, batch) int32 labels 0-9."""
    import numpy as np
    rng = np.random.default_rng(1)
    x = rng.random((args.batches, args.batch, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, (args.batches, args.batch), dtype=np.int32)
    return x, y


def measure(variants, args):
    """variants: name -> (train_pass, infer_pass), each a function that runs every batch and
    returns only when the work is done. Returns name -> {"train", "infer", "cpu_per_wall"}:
    median samples/s, and the process's CPU time over the wall time of the timed passes (about
    the number of busy threads: a check that the thread limit holds)."""
    samples = args.batches * args.batch
    for train_pass, infer_pass in variants.values():
        train_pass()  # warm-up: compiles, traces, sizes every buffer
        infer_pass()
    rates = {name: {"train": [], "infer": []} for name in variants}
    cpu = {name: 0.0 for name in variants}
    wall = {name: 0.0 for name in variants}
    for _ in range(args.repeats):
        for name, (train_pass, infer_pass) in variants.items():
            for mode, run in (("train", train_pass), ("infer", infer_pass)):
                times = os.times()
                start = time.perf_counter()
                run()
                seconds = time.perf_counter() - start
                after = os.times()
                rates[name][mode].append(samples / seconds)
                wall[name] += seconds
                cpu[name] += (after.user - times.user) + (after.system - times.system)
    return {name: {"train": round(statistics.median(rates[name]["train"])),
                   "infer": round(statistics.median(rates[name]["infer"])),
                   "cpu_per_wall": round(cpu[name] / wall[name], 2)} for name in variants}


def report(framework, args, parameters, results):
    """Prints the JSON line: the best variant for training and for inference (named), and every
    variant's figures."""
    ok = {name: r for name, r in results.items() if "train" in r}
    train_variant = max(ok, key=lambda name: ok[name]["train"])
    infer_variant = max(ok, key=lambda name: ok[name]["infer"])
    print(json.dumps({"framework": framework, "model": args.model, "layers": args.layers, "hidden": args.hidden,
                      "batch": args.batch, "threads": args.threads, "parameters": parameters,
                      "train_samples_per_second": ok[train_variant]["train"],
                      "infer_samples_per_second": ok[infer_variant]["infer"],
                      "train_variant": train_variant, "infer_variant": infer_variant,
                      "variants": results}), flush=True)


def limit_cpus(threads):
    """Restricts this process (and what it starts) to `threads` of the CPUs it may run on, as
    taskset would. For frameworks whose thread pools are sized from the CPUs they can see."""
    allowed = sorted(os.sched_getaffinity(0))
    if threads < len(allowed):
        os.sched_setaffinity(0, allowed[:threads])
