#!/usr/bin/env bash
# Three pacesetter replicas behind HAProxy on this machine, under load: a new snapshot rolled out to every
# replica (imported once, copied, switched), then one replica stopped with SIGTERM and another killed with
# -9. Prints the load's requests, failures and versions seen, and how long HAProxy took to drop each. Run by hand from the
# repository's root (not in CI): docs/deploy/replicas.sh. Needs Go and HAProxy (apt-get install -y haproxy).
set -euo pipefail

N=${N:-3}
LB_PORT=${LB_PORT:-9100}
BASE_PORT=${BASE_PORT:-9110}
ADMIN_PORT=${ADMIN_PORT:-9199}
CLIENTS=${CLIENTS:-16}
# At least HAProxy's checks' interval × fall (500 ms × 2, haproxy.cfg) plus a check's time: a replica told
# to stop answers 503 on /readyz that long while still serving, so HAProxy drops it before its listener closes.
DRAIN_DELAY=${DRAIN_DELAY:-2s}
WORK=${WORK:-$(mktemp -d /tmp/pacesetter-replicas.XXXXXX)}

[ "$N" -ge 3 ] || { echo "N must be at least 3 (one replica is stopped, one killed, one serves)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "needs HAProxy: apt-get install -y haproxy" >&2; exit 1; }
[ -f go.mod ] && [ -d cmd/pacesetter ] || { echo "run from the repository's root" >&2; exit 1; }
mkdir -p "$WORK"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
say() { printf '%s %s\n' "$(date -u +%H:%M:%S.%N | cut -c1-12)" "$*"; }
admin() { # one line to HAProxy's runtime API, its answer on stdout
    exec 3<>"/dev/tcp/127.0.0.1/$ADMIN_PORT"; printf '%s\n' "$1" >&3; cat <&3; exec 3<&-
}
version_of() { curl -fsS "http://127.0.0.1:$1/healthz" | sed -E 's/.*"version":"([^"]+)".*/\1/'; }

say "building into $WORK"
go build -o "$WORK/pacesetter" ./cmd/pacesetter
go build -o "$WORK/pacebench" ./cmd/pacebench
ps=$WORK/pacesetter

# Two snapshots, each imported once: the NBS dataset, and the same with one value changed.
"$ps" import --db "$WORK/v1.db" data/china-provinces-nbs >/dev/null
cp -r data/china-provinces-nbs "$WORK/v2"
awk -F, -v OFS=, 'NR == 2 { $5 = $5 + 1 } { print }' data/china-provinces-nbs/observations.csv > "$WORK/v2/observations.csv"
"$ps" import --db "$WORK/v2.db" "$WORK/v2" >/dev/null

servers=""
for i in $(seq 1 "$N"); do
    port=$((BASE_PORT + i))
    mkdir -p "$WORK/r$i"
    cp "$WORK/v1.db" "$WORK/r$i/stats.db"
    # --watch 0: each replica switches on SIGHUP only, when the rollout says so.
    "$ps" serve --db "$WORK/r$i/stats.db" --addr "127.0.0.1:$port" --watch 0 --trusted-proxies 127.0.0.1 \
        --no-access-log --shutdown-grace 10s --drain-delay "$DRAIN_DELAY" >"$WORK/r$i/out" 2>"$WORK/r$i/log" &
    pids+=($!)
    eval "pid_r$i=$!"
    servers+="    server r$i 127.0.0.1:$port check"$'\n'
done
for i in $(seq 1 "$N"); do
    until curl -fsS "http://127.0.0.1:$((BASE_PORT + i))/readyz" >/dev/null 2>&1; do sleep 0.1; done
done
v1=$(version_of $((BASE_PORT + 1)))
sed -e "s/@LB_PORT@/$LB_PORT/; s/@ADMIN_PORT@/$ADMIN_PORT/" docs/deploy/haproxy.cfg |
    awk -v servers="$servers" '{ if ($0 == "@SERVERS@") printf "%s", servers; else print }' >"$WORK/haproxy.cfg"
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
pids+=($!)
until curl -fsS "http://127.0.0.1:$LB_PORT/readyz" >/dev/null 2>&1; do sleep 0.1; done
say "$N replicas serving $v1 behind HAProxy $(haproxy -v | head -1 | awk '{print $3}') on :$LB_PORT; $CLIENTS clients start"

"$WORK/pacebench" clients --url "http://127.0.0.1:$LB_PORT" --stop "$WORK/stop" --clients "$CLIENTS" >"$WORK/load.out" 2>&1 &
load=$!
sleep 3

# Roll out v2: copy it beside each replica's file (not yet served), switch half the replicas while they are
# out of rotation (drain: no new requests; the health checks go on), then put them in and the others out
# in one runtime-API line, and switch the rest. No client sees v1 after v2: from that line on, only v2
# replicas take requests.
say "rollout: copying v2 beside every replica's snapshot"
for i in $(seq 1 "$N"); do cp "$WORK/v2.db" "$WORK/r$i/stats.db.new"; done
half=$(((N + 1) / 2))
first=$(seq 1 "$half"); rest=$(seq $((half + 1)) "$N")
switch() { # replica i serves v2
    local i=$1 pid; pid=$(eval echo "\$pid_r$i")
    mv "$WORK/r$i/stats.db.new" "$WORK/r$i/stats.db"
    kill -HUP "$pid"
    until [ "$(version_of $((BASE_PORT + i)))" != "$v1" ]; do sleep 0.05; done
}
cmd=""; for i in $rest; do cmd+="set server pacesetter/r$i state drain;"; done
admin "$cmd" >/dev/null; sleep 1
for i in $rest; do switch "$i"; done
v2=$(version_of $((BASE_PORT + N)))
cmd=""; for i in $rest; do cmd+="set server pacesetter/r$i state ready;"; done
for i in $first; do cmd+="set server pacesetter/r$i state drain;"; done
admin "$cmd" >/dev/null
say "rollout: replicas $(echo $rest) serve $v2 and take the requests; switching $(echo $first)"
sleep 1
for i in $first; do switch "$i"; done
cmd=""; for i in $first; do cmd+="set server pacesetter/r$i state ready;"; done
admin "$cmd" >/dev/null
say "rollout: all $N replicas serve $v2"
sleep 3

# Stop one replica with SIGTERM and time how long HAProxy takes to mark it down: within the drain delay, while
# the replica still answers (its /readyz then says 503, not a refused connection), so no request fails.
down() { # until HAProxy has replica $1 down
    until admin "show servers state pacesetter" | awk -v s="r$1" '$4 == s && $6 == 0 { found = 1 } END { exit !found }'; do sleep 0.02; done
}
stopped=1
eval "spid=\$pid_r$stopped"
say "SIGTERM r$stopped (pid $spid, --drain-delay $DRAIN_DELAY)"
t0=$(date +%s%N)
kill -TERM "$spid"
down "$stopped"
t1=$(date +%s%N)
probe=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((BASE_PORT + stopped))/readyz" || true)
say "HAProxy took r$stopped out of rotation $(( (t1 - t0) / 1000000 )) ms after SIGTERM; its /readyz then answered $probe (000: refused)"
rc=0; wait "$spid" || rc=$?
say "r$stopped exited $rc"

# Kill one replica with -9 and time how long HAProxy takes to mark it down.
victim=$N
eval "vpid=\$pid_r$victim"
say "kill -9 r$victim (pid $vpid)"
t0=$(date +%s%N)
kill -9 "$vpid"
down "$victim"
t1=$(date +%s%N)
say "HAProxy took r$victim out of rotation $(( (t1 - t0) / 1000000 )) ms after kill -9 (checks every 500 ms, down after 2 failures)"
sleep 3

touch "$WORK/stop"
wait "$load"
cat "$WORK/load.out"
say "logs in $WORK"
