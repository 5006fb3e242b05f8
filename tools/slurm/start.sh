#!/usr/bin/env bash
# Start a real single-node SLURM cluster (munged, MariaDB, slurmdbd, slurmctld,
# slurmd) on this machine, without systemd, with all of its state under one
# folder: $SLURM_LOCAL_DIR (default /tmp/robomimic-slurm).
#
# Idempotent: daemons that are already alive (PID file + /proc/PID/stat state
# not Z/X + expected command name) are left alone, so a second run only
# re-checks the cluster. Needs root; installs the Debian packages if missing.
#
# After it: `source $SLURM_LOCAL_DIR/env.sh` (sets SLURM_CONF) and use
# sinfo/sbatch/squeue/sacct/submitit as usual. Stop with tools/slurm/stop.sh.
#
# Optional environment:
#   SLURM_LOCAL_DIR         state folder            (default /tmp/robomimic-slurm)
#   SLURM_LOCAL_PORT_BASE   slurmctld port; slurmd, slurmdbd, MariaDB use +1, +2, +3
#                           (default 16817, i.e. not the system default 6817-6819/3306)
#   SLURM_LOCAL_CLUSTER     cluster name            (default robomimic)
#   SLURM_LOCAL_SKIP_CHECK  1 = skip the final sbatch/sacct check
set -euo pipefail

T0=${EPOCHREALTIME/./}
DIR=${SLURM_LOCAL_DIR:-/tmp/robomimic-slurm}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd -P)
PORT_BASE=${SLURM_LOCAL_PORT_BASE:-16817}
CTLD_PORT=$PORT_BASE
SLURMD_PORT=$((PORT_BASE + 1))
DBD_PORT=$((PORT_BASE + 2))
DB_PORT=$((PORT_BASE + 3))
CLUSTER=${SLURM_LOCAL_CLUSTER:-robomimic}
ACCOUNT=robomimic
PARTITION=debug

ETC=$DIR/etc RUN=$DIR/run LOG=$DIR/log SPOOL=$DIR/spool DB_DATA=$DIR/mysql
MUNGE_SOCK=$RUN/munge.socket.2
DB_SOCK=$RUN/mysqld.sock
export SLURM_CONF=$ETC/slurm.conf

log() { local us=$(( ${EPOCHREALTIME/./} - T0 )); printf '[slurm-start %3d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# alive NAME PIDFILE: the PID in PIDFILE exists, is not a zombie/dead and runs NAME.
# (PID 1 here does not reap, so a dead daemon can linger as a zombie 'Z'.)
alive() {
    local name=$1 pidfile=$2 pid stat state comm
    [[ -s $pidfile ]] || return 1
    pid=$(tr -dc '0-9' < "$pidfile")
    [[ -n $pid && -r /proc/$pid/stat ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    state=${stat##*) }; state=${state%% *}
    [[ $state != Z && $state != X ]] || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [[ $comm == "$name" ]]
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
    local secs=$1 what=$2; shift 2
    local end=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        (( $(date +%s) < end )) || return 1
        sleep 0.2
    done
}

tail_log() { [[ -f $1 ]] && { echo "---- last lines of $1:" >&2; tail -n 20 "$1" >&2; }; return 0; }

[[ $(id -u) == 0 ]] || die "run as root (the daemons run as root here)"

# ---------------------------------------------------------------- packages
need_install=0
for b in munged mungekey munge unmunge slurmctld slurmd slurmdbd sinfo sbatch sacct sacctmgr \
         mariadbd mariadb-install-db mariadb mariadb-admin; do
    command -v "$b" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$b" >/dev/null 2>&1 || need_install=1
done
export PATH=$PATH:/usr/sbin:/sbin
if (( need_install )); then
    echo "[slurm-start] installing Debian packages (munge slurmctld slurmd slurm-client slurmdbd mariadb-server)" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Keep the packages' maintainer scripts from starting the system-wide services.
    added_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    rc=0
    { apt-get update -q && apt-get install -y -q --no-install-recommends \
          munge slurmctld slurmd slurm-client slurmdbd mariadb-server mariadb-client; } \
          </dev/null >"/tmp/robomimic-slurm-apt.log" 2>&1 || rc=$?
    (( added_policy )) && rm -f /usr/sbin/policy-rc.d
    (( rc == 0 )) || { tail -n 30 /tmp/robomimic-slurm-apt.log >&2; die "apt-get failed (log: /tmp/robomimic-slurm-apt.log)"; }
fi
log "packages present"

mkdir -p "$ETC" "$RUN" "$LOG" "$SPOOL/ctld" "$SPOOL/d" "$DIR/munge"
chmod 755 "$DIR" "$ETC" "$RUN"
chmod 700 "$DIR/munge" "$SPOOL/ctld"

# ---------------------------------------------------------------- munge
MUNGE_KEY=$ETC/munge.key
if [[ ! -s $MUNGE_KEY ]]; then
    mungekey --create --keyfile="$MUNGE_KEY" 2>/dev/null \
        || dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
fi
chmod 400 "$MUNGE_KEY"
munge_ok() { munge -n --socket="$MUNGE_SOCK" | unmunge --socket="$MUNGE_SOCK"; }
if alive munged "$RUN/munged.pid"; then
    log "munged already running (pid $(cat "$RUN/munged.pid"))"
else
    rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock" "$RUN/munged.pid"
    # --force: munged refuses some root-owned/tmp setups without it.
    munged --force --key-file="$MUNGE_KEY" --socket="$MUNGE_SOCK" --pid-file="$RUN/munged.pid" \
        --log-file="$LOG/munged.log" --seed-file="$DIR/munge/munged.seed" \
        </dev/null >>"$LOG/munged.out" 2>&1 || { tail_log "$LOG/munged.log"; die "munged failed to start"; }
    wait_for 10 munge munge_ok || { tail_log "$LOG/munged.log"; die "munged does not answer"; }
    log "munged started (pid $(cat "$RUN/munged.pid"))"
fi

# ---------------------------------------------------------------- MariaDB
DB_PASS_FILE=$ETC/db.pass
if [[ ! -s $DB_PASS_FILE ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$DB_PASS_FILE")
fi
chmod 600 "$DB_PASS_FILE"
DB_PASS=$(cat "$DB_PASS_FILE")
db_sql() { mariadb --no-defaults --protocol=socket --socket="$DB_SOCK" -uroot "$@"; }
db_ping() { mariadb-admin --no-defaults --protocol=socket --socket="$DB_SOCK" -uroot ping; }

if [[ ! -d $DB_DATA/mysql ]]; then
    rm -rf "$DB_DATA"
    mariadb-install-db --no-defaults --datadir="$DB_DATA" --user=root --skip-test-db \
        --auth-root-authentication-method=socket >"$LOG/mariadb-install-db.log" 2>&1 \
        || { tail_log "$LOG/mariadb-install-db.log"; die "mariadb-install-db failed"; }
    log "MariaDB datadir initialised"
fi
if alive mariadbd "$RUN/mariadbd.pid"; then
    log "mariadbd already running (pid $(cat "$RUN/mariadbd.pid"))"
else
    rm -f "$RUN/mariadbd.pid" "$DB_SOCK"
    # --no-defaults: ignore /etc/mysql entirely. TCP only on 127.0.0.1:$DB_PORT
    # (slurmdbd talks TCP; the client library would otherwise read /etc/mysql for a socket).
    setsid mariadbd --no-defaults --user=root --datadir="$DB_DATA" --socket="$DB_SOCK" \
        --pid-file="$RUN/mariadbd.pid" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --skip-name-resolve --log-error="$LOG/mariadbd.log" \
        --innodb-buffer-pool-size=1G --innodb-lock-wait-timeout=900 --innodb-flush-log-at-trx-commit=2 \
        </dev/null >>"$LOG/mariadbd.out" 2>&1 &
    wait_for 30 mariadbd db_ping || { tail_log "$LOG/mariadbd.log"; die "mariadbd does not answer"; }
    wait_for 5 "mariadbd pid file" alive mariadbd "$RUN/mariadbd.pid" || die "mariadbd pid file missing"
    log "mariadbd started (pid $(cat "$RUN/mariadbd.pid"))"
fi
db_sql -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
           ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
           GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" \
    || die "could not create the slurm database user"

# ---------------------------------------------------------------- configs
# Node topology from slurmd -C (CPUs, Boards, Sockets, Cores, Threads, RealMemory).
NODE_LINE=$(slurmd -C | head -n 1)
NODE_NAME=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$NODE_LINE")
[[ -n $NODE_NAME ]] || die "cannot parse 'slurmd -C': $NODE_LINE"
NODE_TOPO=${NODE_LINE#NodeName=$NODE_NAME }
CPUS=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")
MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")
DEF_MEM_PER_CPU=$(( MEM / CPUS ))

write_if_changed() { # FILE MODE: write stdin to FILE only when the content differs
    local f=$1 mode=$2 tmp; tmp=$(mktemp "$f.XXXXXX")
    cat > "$tmp"; chmod "$mode" "$tmp"
    if [[ -f $f ]] && cmp -s "$tmp" "$f"; then rm -f "$tmp"; chmod "$mode" "$f"; return 1; fi
    mv -f "$tmp" "$f"; return 0
}

conf_changed=0
write_if_changed "$ETC/slurm.conf" 644 <<EOF && conf_changed=1 || true
# Generated by tools/slurm/start.sh -- single-node local cluster; edits are overwritten.
ClusterName=$CLUSTER
SlurmctldHost=$NODE_NAME(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups / no systemd here: track processes through /proc, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
# batch_sched_delay=0: no 3 s delay before each batch job/array task is scheduled.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEF_MEM_PER_CPU
# Accounting through slurmdbd (+ MariaDB): submitit reads job states with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# With a private munge socket, the slurmdbd connection needs it here too.
AccountingStoragePass=$MUNGE_SOCK
JobCompType=jobcomp/none
NodeName=$NODE_NAME NodeAddr=127.0.0.1 $NODE_TOPO State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE_NAME Default=YES MaxTime=INFINITE State=UP
EOF

write_if_changed "$ETC/slurmdbd.conf" 600 <<EOF && conf_changed=1 || true
# Generated by tools/slurm/start.sh; must be mode 0600.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
chmod 600 "$ETC/slurmdbd.conf"
(( conf_changed )) && log "configs written to $ETC"

# ---------------------------------------------------------------- slurmdbd
dbd_ok() { sacctmgr -n -P show cluster format=cluster; }
if alive slurmdbd "$RUN/slurmdbd.pid"; then
    log "slurmdbd already running (pid $(cat "$RUN/slurmdbd.pid"))"
else
    rm -f "$RUN/slurmdbd.pid"
    # slurmdbd reads slurmdbd.conf from the folder of $SLURM_CONF.
    setsid slurmdbd </dev/null >>"$LOG/slurmdbd.out" 2>&1 || { tail_log "$LOG/slurmdbd.log"; die "slurmdbd failed"; }
    wait_for 30 slurmdbd dbd_ok || { tail_log "$LOG/slurmdbd.log"; die "slurmdbd does not answer"; }
    wait_for 5 "slurmdbd pid file" alive slurmdbd "$RUN/slurmdbd.pid" || die "slurmdbd pid file missing"
    log "slurmdbd started (pid $(cat "$RUN/slurmdbd.pid"))"
fi
if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
    log "cluster $CLUSTER registered in slurmdbd"
fi

# ---------------------------------------------------------------- slurmctld + slurmd
if alive slurmctld "$RUN/slurmctld.pid"; then
    log "slurmctld already running (pid $(cat "$RUN/slurmctld.pid"))"
    (( conf_changed )) && scontrol reconfigure && log "slurmctld reconfigured"
else
    rm -f "$RUN/slurmctld.pid"
    setsid slurmctld </dev/null >>"$LOG/slurmctld.out" 2>&1 || { tail_log "$LOG/slurmctld.log"; die "slurmctld failed"; }
    wait_for 30 slurmctld scontrol ping || { tail_log "$LOG/slurmctld.log"; die "slurmctld does not answer"; }
    log "slurmctld started (pid $(cat "$RUN/slurmctld.pid"))"
fi
if alive slurmd "$RUN/slurmd.pid"; then
    log "slurmd already running (pid $(cat "$RUN/slurmd.pid"))"
else
    rm -f "$RUN/slurmd.pid"
    setsid slurmd </dev/null >>"$LOG/slurmd.out" 2>&1 || { tail_log "$LOG/slurmd.log"; die "slurmd failed"; }
    wait_for 10 "slurmd pid file" alive slurmd "$RUN/slurmd.pid" || { tail_log "$LOG/slurmd.log"; die "slurmd did not start"; }
    log "slurmd started (pid $(cat "$RUN/slurmd.pid"))"
fi

node_state() { sinfo -h -N -n "$NODE_NAME" -o '%T'; }
node_idle() { [[ $(node_state) =~ ^(idle|mixed|allocated|completing) ]]; }
if ! wait_for 20 "node idle" node_idle; then
    # e.g. left DOWN/DRAIN by an earlier unclean stop
    scontrol update NodeName="$NODE_NAME" State=RESUME >/dev/null 2>&1 || true
    wait_for 10 "node idle" node_idle || { tail_log "$LOG/slurmd.log"; tail_log "$LOG/slurmctld.log"; die "node $NODE_NAME is '$(node_state)', not idle"; }
fi
log "node $NODE_NAME is $(node_state)"

# Account + user association so jobs are accepted and accounted for.
if ! sacctmgr -n -P show account "$ACCOUNT" format=account | grep -qx "$ACCOUNT"; then
    sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="local test" Organization=local >/dev/null
fi
if ! sacctmgr -n -P show assoc cluster="$CLUSTER" account="$ACCOUNT" user=root format=user | grep -qx root; then
    sacctmgr -i add user root Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
    log "account $ACCOUNT / user root associated"
fi

# ---------------------------------------------------------------- env + check
cat > "$DIR/env.sh" <<EOF
# source this file to use the local SLURM cluster started by tools/slurm/start.sh
export SLURM_LOCAL_DIR=$DIR
export SLURM_CONF=$SLURM_CONF
EOF

if [[ ${SLURM_LOCAL_SKIP_CHECK:-0} != 1 ]]; then
    sinfo -N -o '%N %P %T %c %m' | sed 's/^/  sinfo: /' >&2
    [[ $(sinfo -h -N -n "$NODE_NAME" -o '%T') == idle* ]] || log "note: node is not idle (jobs running?): $(node_state)"
    mkdir -p "$DIR/check"
    jid=$(cd "$DIR/check" && sbatch --parsable -J start-check -o "$DIR/check/%j.out" --wrap 'echo ok') \
        || die "sbatch --wrap check job failed"
    jid=${jid%%;*}
    # COMPLETED in sacct means: scheduled, ran, finished and accounted in slurmdbd.
    acct_ok() { sacct -n -X -P -j "$jid" -o State | grep -qx COMPLETED; }
    wait_for 30 "sacct job $jid" acct_ok || die "job $jid not COMPLETED in sacct: sacct='$(sacct -n -X -P -j "$jid" -o JobID,State,ExitCode)' squeue='$(squeue -h -j "$jid" -o '%i %T %r' 2>&1)'"
    log "check job $jid: $(sacct -n -X -P -j "$jid" -o JobID,JobName,State,ExitCode | head -n1) (output: $(cat "$DIR/check/$jid.out"))"
fi

log "cluster up"
echo "# SLURM is up. Use it with:"
cat "$DIR/env.sh"
echo "# (or: source $DIR/env.sh)"
