#!/usr/bin/env bash
# Two checks of how harness uses a machine:
#  1. A grid of 4 equal jobs (the paper's LSTM, 3 epochs, 4 seeds) run with the default
#     layout, against the sum of the same 4 jobs each run alone, one after another; and the
#     same grid with twice as many threads as cores (2 jobs at once, each with as many
#     threads as there are cores).
#  2. Peak resident memory of one full-size job (60,000 training images): a synthetic
#     data set of the official size is written to a temporary directory (python3, stdlib).
#
#   benchmarks/grid-and-memory.sh [DATA_DIR]   (default ../shared/data/fashion-mnist-prefix)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/fashion-mnist-prefix}
swift build -c release >/dev/null 2>&1 || swift build -c release
harness=$PWD/.build/release/harness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

spec() {  # spec NAME SEEDS
    cat >"$work/$1.json" <<JSON
{"name": "$1", "model": {"type": "lstm", "layers": 2, "hidden": 64},
 "training": {"epochs": 3, "batch_size": 100}, "seeds": $2}
JSON
}
now() { date +%s.%N; }

sum=0
for seed in 1 2 3 4; do
    spec "single$seed" "[$seed]"
    start=$(now)
    "$harness" run "$work/single$seed.json" --db "$work/single.sqlite" --data "$data" --jobs 1 --threads 1 >/dev/null 2>&1
    sum=$(awk -v s="$sum" -v a="$start" -v b="$(now)" 'BEGIN {print s + b - a}')
done
spec grid "[1, 2, 3, 4]"
start=$(now)
"$harness" run "$work/grid.json" --db "$work/grid.sqlite" --data "$data" >/dev/null 2>&1
grid=$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')
awk -v g="$grid" -v s="$sum" 'BEGIN {printf "grid of 4 jobs: %.1f s; the 4 jobs alone, one after another: %.1f s; ratio %.2f\n", g, s, g / s}'
# More threads than cores (2 jobs at once, each with as many threads as cores): the thread
# pools must give way to each other rather than spin on a core another job needs.
threads=$(nproc)
start=$(now)
"$harness" run "$work/grid.json" --db "$work/over.sqlite" --data "$data" --jobs 2 --threads "$threads" >/dev/null 2>&1
over=$(awk -v a="$start" -v b="$(now)" 'BEGIN {print b - a}')
awk -v o="$over" -v g="$grid" -v t="$threads" \
    'BEGIN {printf "the same grid with 2 jobs x %d threads: %.1f s (%.2fx the default layout)\n", t, o, o / g}'

python3 - "$work/full" <<'PY'
import gzip, os, struct, sys
directory = sys.argv[1]; os.makedirs(directory)
for split, n in (("train", 60000), ("t10k", 10000)):
    with gzip.open(f"{directory}/{split}-images-idx3-ubyte.gz", "wb", compresslevel=1) as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + os.urandom(n * 784))
    with gzip.open(f"{directory}/{split}-labels-idx1-ubyte.gz", "wb", compresslevel=1) as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(b % 10 for b in os.urandom(n)))
PY
cat >"$work/full.json" <<JSON
{"name": "full", "model": {"type": "lstm", "layers": 2, "hidden": 64}, "training": {"epochs": 1, "batch_size": 100}}
JSON
[ -x /usr/bin/time ] || { echo "peak memory needs /usr/bin/time (Debian package: time)"; exit 0; }
/usr/bin/time -v "$harness" run "$work/full.json" --db "$work/full.sqlite" --data "$work/full" 2>"$work/time.txt" >/dev/null
echo "full-size job (60,000 training images, 1 epoch): peak resident $(awk '/Maximum resident/ {printf "%.0f MB", $6 / 1024}' "$work/time.txt")"
