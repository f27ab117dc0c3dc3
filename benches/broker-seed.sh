#!/bin/bash
# Confirmed publish rate of `fleetctl seed --count N` (publisher confirms, persistent messages,
# a durable queue and its DLQ) into RabbitMQ on 127.0.0.1:5672, into `fleetctl broker` in memory
# and into `fleetctl broker --state-dir` (every confirm after fsync), interleaved: R rounds of
# (rabbitmq, memory, state-dir). Prints the median msgs/s of each and their ratios to RabbitMQ as
# rows of the table in BENCHMARKS.md. Run from the repository root after `cargo build --release`.
set -e
BIN=${BIN:-target/release/fleetctl}
N=${N:-100000}
R=${R:-3}
RABBIT=${RABBIT:-amqp://guest:guest@127.0.0.1:5672/%2f}
D=$(mktemp -d)
$BIN broker --listen 127.0.0.1:0 --no-http > $D/mem.out 2>/dev/null &
MEM=$!
$BIN broker --listen 127.0.0.1:0 --no-http --state-dir $D/state > $D/disk.out 2>/dev/null &
DISK=$!
trap "kill $MEM $DISK; wait $MEM $DISK; rm -rf $D" EXIT
until grep -q "broker ready" $D/mem.out && grep -q "broker ready" $D/disk.out; do sleep 0.1; done
url() { echo "amqp://guest:guest@$(sed -n 's/.*amqp=\([^ ]*\).*/\1/p' $1)/%2f"; }
declare -A URLS=([rabbitmq]=$RABBIT [memory]=$(url $D/mem.out) [state-dir]=$(url $D/disk.out))
for i in $(seq 1 $R); do
  for t in rabbitmq memory state-dir; do
    q=fleetctl-bench-seed-$t-$i-$$
    $BIN seed -c $N -q $q --amqp-url "${URLS[$t]}" -o json > $D/$t.$i.json
    echo "round $i $t: $(python3 -c "import json;print(round(json.load(open('$D/$t.$i.json'))['msgs_per_sec']))") msgs/s"
    if [ $t = rabbitmq ] && command -v rabbitmqctl >/dev/null; then
      rabbitmqctl delete_queue $q >/dev/null 2>&1 || true
      rabbitmqctl delete_queue $q.dlq >/dev/null 2>&1 || true
    fi
  done
done
python3 - $D $R $N <<'PY'
import json, sys, statistics
d, rounds, n = sys.argv[1], int(sys.argv[2]), sys.argv[3]
med = {}
for t in ["rabbitmq", "memory", "state-dir"]:
    runs = [json.load(open(f"{d}/{t}.{i}.json")) for i in range(1, rounds + 1)]
    assert all(r["confirmed"] == r["requested"] for r in runs), t
    v = [r["msgs_per_sec"] for r in runs]
    med[t] = statistics.median(v)
    print(f"| seed --count {n}, {t} | {med[t]:.0f} | {min(v):.0f}–{max(v):.0f} | {med[t] / med['rabbitmq']:.2f}× |")
PY
