#!/usr/bin/env bash
# Training and inference throughput of the paper's LSTM and the notebook's CNN with 1 and 2
# threads: the median of several `harness bench` runs, its GFLOP/s, and the share of the
# CPU's peak (FMA units x vector width x clock, from /proc/cpuinfo).
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

flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | awk '{print $4}')
if [[ $flags == *avx512f* ]]; then per_cycle=64; elif [[ $flags == *fma* ]]; then per_cycle=32; else per_cycle=8; fi
peak=$(awk -v m="$mhz" -v f="$per_cycle" 'BEGIN {printf "%.1f", m / 1000 * f}')
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), ${mhz} MHz, $per_cycle FLOP/cycle/core: peak $peak GFLOP/s per core"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-6s %7s %12s %9s %7s %12s %9s\n" model threads "train/s" "GFLOP/s" "%peak" "infer/s" "GFLOP/s"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -E "s/.*\"$1\":([0-9.e+-]+).*/\1/"; }

for model in lstm cnn; do
    for threads in 1 2; do
        results=()
        for _ in $(seq "$runs"); do
            results+=("$($harness bench --model "$model" --batch 100 --threads "$threads" --json)")
        done
        train=$(printf '%s\n' "${results[@]}" | field train_samples_per_second | median)
        infer=$(printf '%s\n' "${results[@]}" | field infer_samples_per_second | median)
        gflops=$(printf '%s\n' "${results[@]}" | field gflops | median)
        igflops=$(printf '%s\n' "${results[@]}" | field infer_gflops | median)
        share=$(awk -v g="$gflops" -v p="$peak" -v t="$threads" 'BEGIN {printf "%.0f", 100 * g / (p * t)}')
        printf "%-6s %7d %12.0f %9.1f %6s%% %12.0f %9.1f\n" "$model" "$threads" "$train" "$gflops" "$share" "$infer" "$igflops"
        if [ -n "${PYTHON:-}" ]; then
            "$PYTHON" benchmarks/pytorch_baseline.py --model "$model" --threads "$threads" --repeats "$runs" 2>/dev/null \
                | sed 's/^/    pytorch: /'
        fi
    done
done
