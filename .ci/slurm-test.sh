#!/usr/bin/env bash
# harness on a real Slurm: a one-node cluster from Debian's packages, started in a
# temporary directory, runs `harness submit --slurm` end to end.
#
#   1. quick.json as a job array; the dependent merge job folds the shards into the main
#      database; every job must be done with accuracy > 0.3.
#   2. A task is cancelled (scancel) in the middle of its job: no trace of that job may
#      reach the main database, the job stays pending, and submitting again runs only it.
#
# Run as root (it installs slurm-wlm if missing and starts munged, slurmctld and slurmd).
# Environment: HARNESS_DATA (default ../shared/data/fashion-mnist-prefix beside the
# repository), HARNESS_BIN (default: `swift build` here), SLURM_TEST_TIMEOUT (seconds
# each wait may take, default 600). The cgroup process tracker does not work in
# containers (jobs drain the node and never end), hence proctrack/linuxproc.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${HARNESS_DATA:-$repo/../shared/data/fashion-mnist-prefix}
wait_limit=${SLURM_TEST_TIMEOUT:-600}
started=$SECONDS

say() { printf '[slurm-test %3ds] %s\n' $((SECONDS - started)) "$*"; }
fail() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it starts munged and the Slurm daemons"
[ -d "$data" ] || fail "no data directory $data (set HARNESS_DATA)"
data=$(cd "$data" && pwd)

missing=()
command -v slurmctld >/dev/null || missing+=(slurm-wlm)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -n "${HARNESS_BIN:-}" ]; then
    harness=$HARNESS_BIN
else
    say "building harness"
    (cd "$repo" && swift build --product harness >/dev/null)
    harness="$(cd "$repo" && swift build --show-bin-path)/harness"
fi
[ -x "$harness" ] || fail "no harness binary at $harness"

work=$(mktemp -d /tmp/harness-slurm.XXXXXX)
chmod 755 "$work"   # munged runs as the munge user and must reach its directory
export SLURM_CONF=$work/slurm.conf
own_munged=""

# Waits up to 10 s for process $1 to exit, then kills it.
wait_for_exit() {
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT
    if [ -f "$work/slurmctld.pid" ] || [ -f "$work/slurmd.pid" ]; then
        scontrol shutdown >/dev/null 2>&1 || true
        for pidfile in "$work/slurmctld.pid" "$work/slurmd.pid"; do
            if [ -f "$pidfile" ]; then wait_for_exit "$(cat "$pidfile")"; fi
        done
    fi
    if [ -n "$own_munged" ] && [ -f "$work/munge/munged.pid" ]; then
        # munged writes its seed file as it exits: wait for it, or the rm below races it.
        # Its pid is read before the kill: munged removes its pid file as it exits.
        pid=$(cat "$work/munge/munged.pid")
        kill "$pid" 2>/dev/null || true
        wait_for_exit "$pid"
    fi
    if [ "$status" -ne 0 ]; then
        for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/results/slurm/*/*.out; do
            [ -f "$log" ] || continue
            echo "----- $log (last 30 lines)"
            tail -n 30 "$log"
        done
    fi
    # Removing the scratch directory is housekeeping: a late write by a daemon must not fail the test.
    for _ in 1 2 3 4 5; do rm -rf "$work" 2>/dev/null && break; sleep 0.5; done
    if [ -e "$work" ]; then say "could not remove $work"; fi
    say "$([ "$status" -eq 0 ] && echo passed || echo "failed (status $status)") in $((SECONDS - started)) s"
    exit "$status"
}
trap cleanup EXIT

# --- munge: reuse a working daemon, else start one as the munge user -----------------
if ! { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }; then
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 "$work/munge"
    runuser -u munge -- munged --force --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
        --seed-file="$work/munge/munged.seed"
    own_munged=yes
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || fail "munged does not answer"
fi

# --- Slurm: one node, state and spool here ------------------------------------------
for port in 6817 6818; do   # slurmctld's and slurmd's default ports
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        fail "port $port is in use (another Slurm on this machine?); stop it first"
    fi
done
node_line=$(slurmd -C | head -n 1)
node=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node_line")
[ -n "$node" ] || fail "slurmd -C printed no NodeName line: $node_line"
mkdir -p "$work/state" "$work/spool"
cat >"$SLURM_CONF" <<EOF
ClusterName=harness-ci
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
KillWait=10
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -i
slurmd -N "$node"
say "started slurmctld and slurmd"

wait_for() {   # wait_for DESCRIPTION COMMAND...: until COMMAND succeeds, at most $wait_limit s
    local what=$1 deadline=$((SECONDS + wait_limit))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "timed out after ${wait_limit} s waiting for $what"
        sleep 0.2
    done
}
node_idle() { [ "$(sinfo -h -n "$node" -o %T 2>/dev/null)" = idle ]; }
queue_empty() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }
wait_for "node $node to be idle" node_idle
say "Slurm is up: node $node idle"

db=$work/results/harness.sqlite
query() { sqlite3 -batch -noheader "$db" "$1"; }
manifest_field() {   # manifest_field SUBMISSION_DIR FIELD
    sed -n "s/^ *\"$2\" : \"\\([^\"]*\\)\".*/\\1/p" "$1/submission.json"
}
submit() {   # submit SPEC: sets $array (the array job id) and $submission (its directory)
    local before after
    before=$(ls "$work/results/slurm" 2>/dev/null || true)
    "$harness" submit "$1" --slurm --db "$db" --data "$data" --time 00:10:00 >"$work/submit.out" 2>"$work/submit.err" \
        || { cat "$work/submit.err"; fail "harness submit $1 failed"; }
    after=$(ls "$work/results/slurm")
    submission=$work/results/slurm/$(comm -13 <(echo "$before") <(echo "$after") | tail -n 1)
    array=$(cat "$work/submit.out")
    [ -f "$submission/submission.json" ] && [ -n "$array" ] || fail "harness submit $1 printed no job id or directory"
}
task_jobs() {   # task_jobs SUBMISSION_DIR: the job ids of its tasks, in task order
    sed -n '/"tasks"/,$p' "$1/submission.json" | grep -o '"[0-9a-f]\{16\}"' | tr -d '"'
}

# --- 1. quick.json ------------------------------------------------------------------
submit "$repo/experiments/quick.json"
say "quick.json: array job $array, merge job $(manifest_field "$submission" merge_job_id)"
wait_for "the quick.json jobs to leave the queue" queue_empty
grep -q "merged 4 run(s) (4 done, 0 failed)" "$submission/merge.out" \
    || { cat "$submission/merge.out"; fail "the merge job did not merge the 4 runs"; }
"$harness" merge --db "$db" 2>&1 | grep -q "merged 0 run(s).*4 merged before" || fail "a second merge was not a no-op"
total=$(query "SELECT count(*) FROM job_results WHERE experiment = 'quick'")
good=$(query "SELECT count(*) FROM job_results WHERE experiment = 'quick' AND status = 'done' AND accuracy > 0.3")
[ "$total" -eq 4 ] && [ "$good" -eq 4 ] || fail "quick: $good of $total jobs done with accuracy > 0.3"
say "quick.json: 4 of 4 jobs done, accuracies $(query "SELECT group_concat(printf('%.3f', accuracy), ' ') FROM job_results WHERE experiment = 'quick'")"

# --- 2. scancel in the middle of a job ---------------------------------------------
spec=$work/scancel.json
cat >"$spec" <<'EOF'
{"name": "scancel", "description": "two jobs of a few seconds each, one to be cancelled midway",
 "dataset": {"train_size": 8000}, "model": {"type": "lstm", "layers": 1, "hidden": 32},
 "training": {"epochs": 20, "batch_size": 50}, "seeds": [1, 2]}
EOF
submit "$spec"
first=$submission
victim=$(task_jobs "$first" | sed -n 2p)
[ -n "$victim" ] || fail "no job id for task 1 in $first/submission.json"
in_mid_job() {   # task 1 has recorded an epoch of its running job
    [ -f "$first/shard-1.sqlite.partial" ] && [ "$(sqlite3 -batch -noheader "$first/shard-1.sqlite.partial" \
        "SELECT count(*) FROM runs r JOIN epochs e ON e.run_id = r.id WHERE r.status = 'running'" 2>/dev/null)" -ge 1 ] 2>/dev/null
}
wait_for "task 1 to be in the middle of its job" in_mid_job
scancel "${array}_1"
say "scancel ${array}_1 after its first epoch (job $victim)"
wait_for "the scancel jobs to leave the queue" queue_empty
"$harness" merge --db "$db" >/dev/null 2>&1 || fail "harness merge failed after the scancel"
state=$(query "SELECT status FROM job_results WHERE experiment = 'scancel' AND job_id = '$victim'")
runs=$(query "SELECT count(*) FROM runs WHERE job_id = '$victim'")
rows=$(query "SELECT (SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.job_id = '$victim')
                   + (SELECT count(*) FROM results x JOIN runs r ON r.id = x.run_id WHERE r.job_id = '$victim')")
[ "$state" = pending ] && [ "$runs" -eq 0 ] && [ "$rows" -eq 0 ] \
    || fail "cancelled job $victim: status $state, $runs run(s), $rows epoch/result row(s) in the main database"
other=$(query "SELECT count(*) FROM job_results WHERE experiment = 'scancel' AND status = 'done'")
[ "$other" -eq 1 ] || fail "the task that was not cancelled did not finish ($other done)"
if [ -f "$first/shard-1.sqlite" ]; then   # SIGTERM handled: the shard holds the run, interrupted
    shard_state=$(sqlite3 -batch -noheader "$first/shard-1.sqlite" "SELECT group_concat(status) FROM runs WHERE job_id = '$victim'")
    [ "$shard_state" = interrupted ] || fail "task 1's shard has its job as '$shard_state', expected 'interrupted'"
    left="a shard with the run interrupted"
else
    left="only its .partial shard (killed before publishing)"
fi
say "after scancel: job $victim pending with no runs in the main database; task 1 left $left"

submit "$spec"
resubmitted=$(task_jobs "$submission" | tr '\n' ' ')
[ "$resubmitted" = "$victim " ] || fail "resubmission should run only $victim, runs: $resubmitted"
say "resubmitted only job $victim as array job $array"
wait_for "the resubmitted job to leave the queue" queue_empty
"$harness" status --db "$db" >/dev/null 2>&1 || fail "harness status failed"
done_count=$(query "SELECT count(*) FROM job_results WHERE experiment = 'scancel' AND status = 'done' AND accuracy > 0.3")
[ "$done_count" -eq 2 ] || fail "after resubmitting, $done_count of 2 scancel jobs are done"
say "scancel grid finished: 2 of 2 jobs done"
