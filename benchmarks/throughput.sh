#!/usr/bin/env bash
# Training and inference throughput of the paper's LSTM and the notebook's CNN with 1 and 2
# threads: the median of several `harness bench` runs, its GFLOP/s, and the share of the
# CPU's peak as `harness bench --peak` measures it with the same number of threads
# running (FMA chains; /proc/cpuinfo's clock is the base clock, not what the cores run at).
#
#   benchmarks/throughput.sh [RUNS]         (default 5 runs per configuration)
#
# Also runs benchmarks/pytorch_baseline.py with the same settings when PYTHON names an
# interpreter that has PyTorch (PYTHON=venv/bin/python benchmarks/throughput.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
swift build -c release >/dev/null 2>&1 || swift build -c release
harness=.build/release/harness

peak_of() { "$harness" bench --peak --threads "$1" --json | sed -E 's/.*"peak_gflops_per_core":([0-9.]+).*/\1/'; }
declare -A peak
for threads in 1 2; do peak[$threads]=$(peak_of "$threads"); done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); measured FMA peak per core:" \
     "${peak[1]} GFLOP/s (1 thread running), ${peak[2]} GFLOP/s (2 threads)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %7s %12s %9s %7s %12s %9s %7s\n" model threads "train/s" "GFLOP/s" "%peak" "infer/s" "GFLOP/s" "%peak"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -E "s/.*\"$1\": ?([0-9.e+-]+).*/\1/"; }

for model in lstm cnn; do
    # The paper's final LSTM (2 layers of 64); the CNN is the notebook's, bench's cnn defaults.
    shape=(); [ "$model" = lstm ] && shape=(--layers 2 --hidden 64)
    for threads in 1 2; do
        results=()
        for _ in $(seq "$runs"); do
            results+=("$($harness bench --model "$model" "${shape[@]}" --batch 100 --threads "$threads" --json)")
        done
        train=$(printf '%s\n' "${results[@]}" | field train_samples_per_second | median)
        infer=$(printf '%s\n' "${results[@]}" | field infer_samples_per_second | median)
        gflops=$(printf '%s\n' "${results[@]}" | field gflops | median)
        igflops=$(printf '%s\n' "${results[@]}" | field infer_gflops | median)
        share=$(awk -v g="$gflops" -v p="${peak[$threads]}" -v t="$threads" 'BEGIN {printf "%.0f", 100 * g / (p * t)}')
        ishare=$(awk -v g="$igflops" -v p="${peak[$threads]}" -v t="$threads" 'BEGIN {printf "%.0f", 100 * g / (p * t)}')
        printf "%-6s %7d %12.0f %9.1f %6s%% %12.0f %9.1f %6s%%\n" "$model" "$threads" "$train" "$gflops" "$share" \
            "$infer" "$igflops" "$ishare"
        if [ -n "${PYTHON:-}" ]; then
            torch=$("$PYTHON" benchmarks/pytorch_baseline.py --model "$model" --threads "$threads" --repeats "$runs" 2>/dev/null)
            ttrain=$(echo "$torch" | field train_samples_per_second)
            tinfer=$(echo "$torch" | field infer_samples_per_second)
            awk -v a="$train" -v b="$ttrain" -v c="$infer" -v d="$tinfer" -v v="$(echo "$torch" | sed -E 's/.*"framework": "([^"]+)".*/\1/')" \
                'BEGIN {printf "       %s: train %.0f/s, infer %.0f/s; harness is %.2fx (train), %.2fx (infer)\n", v, b, d, a / b, c / d}'
        fi
    done
done
