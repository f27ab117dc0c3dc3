#!/bin/bash
# Benchmark of the local stack as `fleetctl tui --local` starts it (embedded broker, in-process
# agents, the Secret and the bundled manifests), through `fleetctl sim --broker embedded`, which
# starts the same stack in the foreground: seconds from the command until the stack has
# recorded itself ready (`local.json`), from a clean state directory and again on the state
# the first run left; the stack's CPU over 30 s from 5 s after ready (the bundled batch Job's
# pods, 20 at a time, start, find the queue empty and complete), and over 30 s from 90 s after
# ready (that Job complete, the stack idle), and its RSS then. 5 runs each, medians. Run from the repository root after
# `cargo build --release`. The AMQP URL points at a free port, as on a machine without RabbitMQ.
set -e
BIN=${BIN:-target/release/fleetctl}
RUNS=${RUNS:-5}
D=$(mktemp -d)
trap 'pkill -TERM -f "state-dir $D" 2>/dev/null || true; sleep 1; rm -rf $D' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export FLEETCTL_AMQP_URL="amqp://guest:guest@127.0.0.1:$PORT/%2f"
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
start() { # $1 = state dir; prints seconds until ready, leaves the pid in $D/pid
  local t0=$(date +%s.%N)
  $BIN sim --broker embedded --runtime inproc --state-dir "$1" > $D/out 2> $D/err &
  echo $! > $D/pid
  until [ -f "$1/local.json" ]; do sleep 0.02; done
  python3 -c "import time; print(f'{time.time()-$t0:.2f}')"
}
stop() { kill -TERM $(cat $D/pid); wait $(cat $D/pid) 2>/dev/null || true; }
HZ=$(getconf CLK_TCK)
for i in $(seq 1 $RUNS); do
  S=$D/state.$i
  fresh=$(start $S)
  pid=$(cat $D/pid)
  sleep 5
  a=$(ticks $pid); sleep 30; b=$(ticks $pid)
  busy=$(python3 -c "print(f'{($b-$a)/$HZ/30*100:.1f}')")
  sleep 55
  a=$(ticks $pid); sleep 30; b=$(ticks $pid)
  cpu=$(python3 -c "print(f'{($b-$a)/$HZ/30*100:.1f}')")
  rss=$(awk '/VmRSS/{print $2/1024}' /proc/$pid/status)
  stop
  again=$(start $S)
  stop
  echo "$fresh $again $busy $cpu $rss" >> $D/runs
  echo "run $i: ready ${fresh}s fresh, ${again}s again; CPU ${busy}% of a core while the batch Job runs, ${cpu}% idle; RSS ${rss} MB"
done
python3 - $D/runs <<'PY'
import sys,statistics
rows=[list(map(float,l.split())) for l in open(sys.argv[1])]
for i,name in enumerate(["ready, clean state dir (s)","ready, second start (s)","CPU while the batch Job runs (% of a core)","idle CPU (% of a core)","RSS when idle (MB)"]):
    v=[r[i] for r in rows]
    print(f"| {name} | {statistics.median(v):.2f} | {min(v):.2f}–{max(v):.2f} |")
PY
