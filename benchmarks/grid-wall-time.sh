#!/usr/bin/env bash
# A spec's wall time against the ideal: the CPU time all its jobs took (user + system,
# measured by /usr/bin/time over the whole harness process) spread perfectly over the cores.
# A ratio near 1 means the cores were busy to the end; a long job started last shows as a
# ratio well above 1 while one core idles.
#
#   benchmarks/grid-wall-time.sh SPEC [DATA_DIR] [HARNESS_BINARY ...]
#
# Each binary (default: this checkout's release build) runs the whole spec into a new
# temporary database, one after another, so two builds (say, before and after a scheduler
# change) are compared on the same machine in one sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
spec=${1:?usage: benchmarks/grid-wall-time.sh SPEC [DATA_DIR] [HARNESS_BINARY ...]}
data=${2:-../shared/data/fashion-mnist-prefix}
shift $(( $# >= 2 ? 2 : 1 ))
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
    swift build -c release >/dev/null 2>&1 || swift build -c release
    binaries=("$PWD/.build/release/harness")
fi
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for binary in "${binaries[@]}"; do
    rm -rf "$work/db"
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" \
        "$binary" run "$spec" --db "$work/db/h.sqlite" --data "$data" >/dev/null 2>"$work/log"
    read -r wall user system rss <"$work/time"
    awk -v b="$binary" -v w="$wall" -v u="$user" -v s="$system" -v c="$cores" -v m="$rss" 'BEGIN {
        ideal = (u + s) / c
        printf "%s: wall %.1f s, CPU %.1f s, ideal (CPU / %d cores) %.1f s, wall / ideal %.3f, peak RSS %.0f MB\n",
               b, w, u + s, c, ideal, w / ideal, m / 1024 }'
done
