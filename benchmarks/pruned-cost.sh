#!/usr/bin/env bash
# What pruning costs or saves, per step and per sample: the paper's LSTM (2 layers of 64,
# batch 100, 1 thread) against a pruned copy, timed interleaved by `harness bench`
# (--prune-sparsity: masked training and sparse inference; --prune-units: a model rebuilt
# with fewer hidden units). One `harness bench` run gives one ratio per measure; this
# prints the median ratio over RUNS runs (the machine is noisy: a single run moves by 5-10%).
#
#   benchmarks/pruned-cost.sh [RUNS]        (default 5 runs per setting)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
swift build -c release >/dev/null 2>&1 || swift build -c release
harness=.build/release/harness

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -E "s/.*\"$1\": ?([0-9.e+-]+).*/\1/"; }

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); medians of $runs runs of pruned / dense (below 1 is cheaper)"
printf "%-22s %16s %16s %16s\n" pruning "optimizer step" "train step" "inference"
for setting in "--prune-sparsity 0.3" "--prune-sparsity 0.5" "--prune-sparsity 0.7" "--prune-sparsity 0.9" \
               "--prune-units 0.25" "--prune-units 0.5" "--prune-units 0.75"; do
    steps=(); trains=(); infers=()
    for _ in $(seq "$runs"); do
        # shellcheck disable=SC2086
        json=$("$harness" bench --layers 2 --hidden 64 --batches 40 --repeats 9 $setting --json)
        steps+=("$(awk -v p="$(echo "$json" | field pruned_step_seconds)" -v d="$(echo "$json" | field mean_step_seconds)" 'BEGIN {print p / d}')")
        # Samples per second: the time ratio is dense rate / pruned rate.
        trains+=("$(awk -v p="$(echo "$json" | field pruned_train_samples_per_second)" -v d="$(echo "$json" | field train_samples_per_second)" 'BEGIN {print d / p}')")
        infers+=("$(awk -v p="$(echo "$json" | field pruned_infer_samples_per_second)" -v d="$(echo "$json" | field infer_samples_per_second)" 'BEGIN {print d / p}')")
    done
    printf "%-22s %15.3fx %15.3fx %15.3fx\n" "${setting#--prune-}" \
        "$(printf '%s\n' "${steps[@]}" | median)" "$(printf '%s\n' "${trains[@]}" | median)" \
        "$(printf '%s\n' "${infers[@]}" | median)"
done
