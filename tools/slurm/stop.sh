#!/usr/bin/env bash
# Stop the local SLURM cluster started by tools/slurm/start.sh.
#
# Only the daemons named in $SLURM_LOCAL_DIR/run/*.pid are signalled, and only if
# that PID still runs the expected program (/proc/PID/comm). Liveness is read
# from /proc/PID/stat: PID 1 on this machine does not reap orphans, so a
# stopped daemon may stay a zombie (state Z) forever; a zombie counts as gone.
# Safe to run when nothing is running.
#
# Jobs still in the queue are cancelled first (scancel) so that no job
# processes (slurmstepd + job) are left behind. If that was impossible (e.g.
# munged dead), leftover slurmstepd and job processes of THIS cluster (their
# environment holds our SLURM_CONF, job processes also a SLURM_JOB_ID) are killed.
#
# Optional environment: SLURM_LOCAL_DIR (default /tmp/robomimic-slurm),
#   SLURM_LOCAL_STOP_TIMEOUT seconds to wait per daemon before SIGKILL (default 30).
set -uo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/robomimic-slurm}
[[ -d $DIR ]] || { echo "[slurm-stop] $DIR does not exist: nothing to stop"; exit 0; }
DIR=$(cd "$DIR" && pwd -P)
RUN=$DIR/run
export SLURM_CONF=$DIR/etc/slurm.conf
export PATH=$PATH:/usr/sbin:/sbin
TIMEOUT=${SLURM_LOCAL_STOP_TIMEOUT:-30}
T0=${EPOCHREALTIME/./}

log() { local us=$(( ${EPOCHREALTIME/./} - T0 )); printf '[slurm-stop %3d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*"; }

# proc_state PID -> one-letter state from /proc/PID/stat ("" if no such process)
proc_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    echo "${stat%% *}"
}
# running PID: exists and is neither zombie (Z) nor dead (X)
running() { local s; s=$(proc_state "$1"); [[ -n $s && $s != Z && $s != X ]]; }

# wait_gone PID SECONDS: 0 once PID is gone or a zombie
wait_gone() {
    local pid=$1 end=$(( $(date +%s) + $2 ))
    while running "$pid"; do
        (( $(date +%s) < end )) || return 1
        sleep 0.1
    done
}

# stop_daemon NAME: SIGTERM the PID in run/NAME.pid if it runs NAME, wait, SIGKILL on timeout.
stop_daemon() {
    local name=$1 pidfile=$RUN/$1.pid pid comm
    if [[ ! -s $pidfile ]]; then log "$name: no PID file, not running"; return 0; fi
    pid=$(tr -dc '0-9' < "$pidfile")
    if [[ -z $pid ]] || ! running "$pid"; then
        log "$name: pid ${pid:-?} not running${pid:+ (state '$(proc_state "$pid")')}"
        rm -f "$pidfile"; return 0
    fi
    comm=$(cat "/proc/$pid/comm" 2>/dev/null)
    if [[ $comm != "$name" ]]; then
        log "$name: pid $pid now runs '$comm', not $name: left alone"
        rm -f "$pidfile"; return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    if wait_gone "$pid" "$TIMEOUT"; then
        log "$name: stopped (pid $pid, state now '$(proc_state "$pid")')"
    else
        log "$name: still running after ${TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        wait_gone "$pid" 10 || { log "$name: pid $pid would not die"; return 1; }
        log "$name: killed (pid $pid)"
    fi
    rm -f "$pidfile"
}

# slurmstepd processes that belong to this cluster (environment has our SLURM_CONF)
our_stepds() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(cat "$p/comm" 2>/dev/null) == slurmstepd ]] || continue
        running "${p#/proc/}" || continue
        tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF" && echo "${p#/proc/}"
    done
}

rc=0
# 1. cancel the jobs still queued/running, while the controller (and munge) are up
pid_running() { [[ -s $RUN/$1.pid ]] && running "$(tr -dc '0-9' < "$RUN/$1.pid")"; }
if pid_running slurmctld && pid_running munged && command -v squeue >/dev/null \
        && jobs=$(timeout 10 squeue -h -o %A 2>/dev/null) && [[ -n $jobs ]]; then
    log "cancelling $(wc -l <<<"$jobs") job(s): $(tr '\n' ' ' <<<"$jobs")"
    timeout 10 scancel $jobs 2>/dev/null
    end=$(( $(date +%s) + 15 ))
    while [[ -n $(timeout 5 squeue -h -o %A 2>/dev/null) || -n $(our_stepds) ]] && (( $(date +%s) < end )); do sleep 0.2; done
fi

# 2. daemons, clients first
for d in slurmd slurmctld slurmdbd mariadbd munged; do
    stop_daemon "$d" || rc=1
done

# 3. anything of this cluster's jobs that survived its slurmd (only when jobs could not
#    be cancelled, e.g. munged was dead): slurmstepd, then the job processes themselves
#    (environment holds our SLURM_CONF and a SLURM_JOB_ID).
our_job_procs() {
    local p pid
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
        running "$pid" || continue
        tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -qxF "SLURM_CONF=$SLURM_CONF" || continue
        tr '\0' '\n' 2>/dev/null < "$p/environ" | grep -q '^SLURM_JOB_ID=' && echo "$pid"
    done
}
left=$(our_stepds)
if [[ -n $left ]]; then
    log "killing leftover slurmstepd of this cluster: $(tr '\n' ' ' <<<"$left")"
    for p in $left; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in $(our_stepds); do kill -KILL "$p" 2>/dev/null; done
fi
left=$(our_job_procs)
if [[ -n $left ]]; then
    log "killing leftover job processes of this cluster: $(tr '\n' ' ' <<<"$left")"
    for p in $left; do kill -TERM "$p" 2>/dev/null; done
    sleep 1
    for p in $(our_job_procs); do kill -KILL "$p" 2>/dev/null; done
fi
rm -f "$RUN/munge.socket.2" "$RUN/munge.socket.2.lock" "$RUN/mysqld.sock"
log "done (state kept in $DIR; delete it for a fresh cluster)"
exit $rc
