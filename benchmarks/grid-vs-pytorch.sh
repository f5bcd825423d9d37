#!/usr/bin/env bash
# The paper's final model over 3 seeds, end to end: `harness run` of experiments/final.json
# against the same three jobs as plain PyTorch scripts (benchmarks/pytorch_job.py), on the
# same cores: as many jobs at once as there are cores, one thread each, which is harness's
# own layout for 3 jobs on this machine. Prints each side's wall time, CPU time (user +
# system) and peak resident memory (the largest single process for PyTorch, the harness
# process for harness), and their ratios.
#
#   PYTHON=venv/bin/python benchmarks/grid-vs-pytorch.sh [DATA_DIR] [EPOCHS]
#
# PyTorch is optional for harness; without it this prints harness's figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/fashion-mnist-prefix}
epochs=${2:-10}
python=${PYTHON:-python3}
swift build -c release >/dev/null 2>&1 || swift build -c release
harness=$PWD/.build/release/harness
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -E "s/\"epochs\": [0-9]+/\"epochs\": $epochs/" experiments/final.json >"$work/final.json"

/usr/bin/time -f "%e %U %S %M" -o "$work/harness.time" \
    "$harness" run "$work/final.json" --db "$work/h.sqlite" --data "$data" --jobs "$cores" --threads 1 >/dev/null 2>&1
read -r h_wall h_user h_sys h_rss <"$work/harness.time"
h_acc=$(sqlite3 "$work/h.sqlite" "SELECT group_concat(round(accuracy, 4), ' ') FROM job_results WHERE experiment = 'final'")
printf "harness: wall %.1f s, CPU %.1f s, peak RSS %.0f MB; accuracies %s\n" \
    "$h_wall" "$(echo "$h_user + $h_sys" | bc)" "$(echo "$h_rss / 1024" | bc)" "$h_acc"

if ! "$python" -c "import torch" 2>/dev/null; then
    echo "PyTorch: not installed for $python (set PYTHON to an interpreter that has it)"; exit 0
fi
# The three seeds, at most $cores at once; each job timed on its own, the whole by the clock.
start=$(date +%s.%N)
for seed in 1 2 3; do
    while [ "$(jobs -rp | wc -l)" -ge "$cores" ]; do wait -n; done
    /usr/bin/time -f "%e %U %S %M" -o "$work/torch$seed.time" \
        "$python" benchmarks/pytorch_job.py "$data" --seed "$seed" --epochs "$epochs" --threads 1 >"$work/torch$seed.json" &
done
wait
t_wall=$(echo "$(date +%s.%N) - $start" | bc)
t_cpu=0; t_rss=0
for seed in 1 2 3; do
    read -r _ user system rss <"$work/torch$seed.time"
    t_cpu=$(echo "$t_cpu + $user + $system" | bc)
    [ "$rss" -gt "$t_rss" ] && t_rss=$rss
done
t_acc=$(for seed in 1 2 3; do sed -E 's/.*"accuracy": ([0-9.]+).*/\1/' "$work/torch$seed.json"; done \
    | awk '{printf "%s%.4f", (NR > 1 ? " " : ""), $1}')
h_cpu=$(echo "$h_user + $h_sys" | bc)
printf "PyTorch: wall %.1f s, CPU %.1f s, peak RSS %.0f MB (largest job); accuracies %s\n" \
    "$t_wall" "$t_cpu" "$(echo "$t_rss / 1024" | bc)" "$t_acc"
awk -v hw="$h_wall" -v tw="$t_wall" -v hc="$h_cpu" -v tc="$t_cpu" -v hm="$h_rss" -v tm="$t_rss" 'BEGIN {
    printf "PyTorch / harness: wall %.2fx, CPU %.2fx, peak RSS %.2fx\n", tw / hw, tc / hc, tm / hm }'
