#!/usr/bin/env bash
# Training and inference throughput of the paper's LSTM and the notebook's CNN with 1 and 2
# threads: the median of several `harness bench` runs, its GFLOP/s, and the share of the
# CPU's peak as `harness bench --peak` measures it with the same number of threads
# running (FMA chains; /proc/cpuinfo's clock is the base clock, not what the cores run at);
# beside it, each installed peer framework's best figure and harness's ratio to the best peer.
#
#   benchmarks/throughput.sh [RUNS]         (default 5 runs per configuration)
#
#   PYTHON=venv/bin/python benchmarks/throughput.sh 5
#   PEERS_PYTHON=venv-peers/bin/python:venv/bin/python benchmarks/throughput.sh 5
#
# Peers are the scripts in benchmarks/peers/ (pytorch.py, tensorflow.py, jax.py): the same
# models, batch, threads and protocol as `harness bench` (random inputs, warm-up and
# compilation not timed, medians of RUNS repeats of BATCHES batches), each reporting its best
# variant (TensorFlow: default, XLA, oneDNN, unrolled LSTM; JAX: lax.scan, unroll=28).
# Which interpreter runs a peer: PYTORCH_PYTHON, TENSORFLOW_PYTHON or JAX_PYTHON when set,
# otherwise the first of PEERS_PYTHON (a colon-separated list) and PYTHON that imports the
# framework. A framework that none imports is skipped, and the script says so; with no peer
# at all it prints harness's figures only. harness needs none of them.
#
# One row per model, thread count and mode (train, infer): harness's samples/s, GFLOP/s and
# share of peak, each peer's samples/s, the best peer and its variant, and harness / best.
# BATCHES (default 20) sets the batches per repeat: BATCHES=2 COOLDOWN=0 benchmarks/throughput.sh 1
# is a smoke test of the script, not a measurement. COOLDOWN: idle seconds before each two-thread
# measurement (see cool_down).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
batches=${BATCHES:-20}
swift build -c release >/dev/null 2>&1 || swift build -c release
harness=.build/release/harness
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The peers: name, the module that must import, the variable naming its own interpreter.
peer_names=(pytorch tensorflow jax)
declare -A peer_module=([pytorch]=torch [tensorflow]=tensorflow [jax]=jax)
declare -A peer_variable=([pytorch]=PYTORCH_PYTHON [tensorflow]=TENSORFLOW_PYTHON [jax]=JAX_PYTHON)
declare -A peer_python
peers=()
notes=()
for name in "${peer_names[@]}"; do
    own=${peer_variable[$name]}
    if [ -n "${!own:-}" ]; then candidates=("${!own}")
    else IFS=: read -r -a candidates <<<"${PEERS_PYTHON:-}"; [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON"); fi
    found=
    for python in "${candidates[@]}"; do
        [ -n "$python" ] || continue
        if version=$(TF_CPP_MIN_LOG_LEVEL=3 "$python" -c "import ${peer_module[$name]} as m; print(m.__version__)" 2>/dev/null); then
            peer_python[$name]=$python; peers+=("$name"); notes+=("$name $version ($python)"); found=1; break
        fi
    done
    if [ -z "$found" ]; then
        if [ ${#candidates[@]} -eq 0 ]; then notes+=("$name skipped (no interpreter: set PYTHON, PEERS_PYTHON or $own)")
        else notes+=("$name skipped (not importable with ${candidates[*]})"); fi
    fi
done

peak_of() { "$harness" bench --peak --threads "$1" --json | sed -E 's/.*"peak_gflops_per_core":([0-9.]+).*/\1/'; }
declare -A peak
for threads in 1 2; do peak[$threads]=$(peak_of "$threads"); done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); measured FMA peak per core:" \
     "${peak[1]} GFLOP/s (1 thread running), ${peak[2]} GFLOP/s (2 threads)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); batch 100, $batches batches per repeat, medians of $runs"
printf 'peers: %s\n' "${notes[@]}"

header=$(printf "%-6s %7s %-5s %9s %8s %6s" model threads mode harness "GFLOP/s" "%peak")
for name in "${peers[@]}"; do header+=$(printf " %10s" "$name"); done
[ ${#peers[@]} -gt 0 ] && header+=$(printf "  %-26s %7s" "best peer (variant)" "harness/best")
echo "$header"

# Minutes of load on both cores leave this kind of machine giving about one core's worth for a
# while (measured: after 150 s of two-thread runs, two-thread CNN training fell from 26,000 to
# 14,000 samples/s, the one-thread rate, and 60 s idle restored it). So every two-thread
# measurement, harness's and each peer's, starts after COOLDOWN idle seconds (default 60; 0 is off).
cool_down() { [ "$1" -gt 1 ] && [ "${COOLDOWN:-60}" -gt 0 ] && sleep "${COOLDOWN:-60}"; return 0; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -E "s/.*\"$1\": ?([0-9.e+-]+).*/\1/"; }
text() { sed -E "s/.*\"$1\": \"([^\"]+)\".*/\1/"; }

for model in lstm cnn; do
    # The paper's final LSTM (2 layers of 64); the CNN is the notebook's, bench's cnn defaults.
    shape=(); [ "$model" = lstm ] && shape=(--layers 2 --hidden 64)
    for threads in 1 2; do
        results=()
        cool_down "$threads"
        for _ in $(seq "$runs"); do
            results+=("$($harness bench --model "$model" "${shape[@]}" --batch 100 --threads "$threads" \
                --batches "$batches" --json)")
        done
        declare -A ours=(
            [train]=$(printf '%s\n' "${results[@]}" | field train_samples_per_second | median)
            [infer]=$(printf '%s\n' "${results[@]}" | field infer_samples_per_second | median)
            [train_gflops]=$(printf '%s\n' "${results[@]}" | field gflops | median)
            [infer_gflops]=$(printf '%s\n' "${results[@]}" | field infer_gflops | median))
        # Each peer once per model and thread count: its line has both modes.
        declare -A theirs=()
        for name in "${peers[@]}"; do
            cool_down "$threads"
            if line=$("${peer_python[$name]}" "benchmarks/peers/$name.py" --model "$model" --layers 2 --hidden 64 \
                    --batch 100 --threads "$threads" --batches "$batches" --repeats "$runs" 2>"$work/stderr") \
                    && [ -n "$line" ]; then
                line=$(echo "$line" | tail -1)
                for mode in train infer; do
                    theirs[$name.$mode]=$(echo "$line" | field "${mode}_samples_per_second")
                    theirs[$name.$mode.variant]=$(echo "$line" | text "${mode}_variant")
                done
            else
                echo "$name failed for $model, $threads threads: $(tail -1 "$work/stderr")" >&2
            fi
        done
        for mode in train infer; do
            value=${ours[$mode]} gflops=${ours[${mode}_gflops]}
            share=$(awk -v g="$gflops" -v p="${peak[$threads]}" -v t="$threads" 'BEGIN {printf "%.0f%%", 100 * g / (p * t)}')
            row=$(printf "%-6s %7d %-5s %9.0f %8.1f %6s" "$model" "$threads" "$mode" "$value" "$gflops" "$share")
            best= best_name=
            for name in "${peers[@]}"; do
                peer=${theirs[$name.$mode]:-}
                if [ -z "$peer" ]; then row+=$(printf " %10s" -); continue; fi
                row+=$(printf " %10.0f" "$peer")
                if [ -z "$best" ] || awk -v a="$peer" -v b="$best" 'BEGIN {exit !(a > b)}'; then
                    best=$peer best_name="$name (${theirs[$name.$mode.variant]})"
                fi
            done
            if [ -n "$best" ]; then
                row+=$(awk -v n="$best_name" -v a="$value" -v b="$best" 'BEGIN {printf "  %-26s %11.2fx", n, a / b}')
            elif [ ${#peers[@]} -gt 0 ]; then
                row+=$(printf "  %-26s %12s" - -)
            fi
            echo "$row"
        done
        unset ours theirs
    done
done
