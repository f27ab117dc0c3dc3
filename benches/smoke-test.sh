#!/bin/bash
# Benchmark of `fleetctl smoke-test --poll 2s` against a fresh local cluster (`fleetctl sim`,
# process runtime) and the RabbitMQ on 127.0.0.1: 5 runs, then the per-step medians as the
# rows of the table in BENCHMARKS.md. Run from the repository root after `cargo build --release`.
set -e
BIN=${BIN:-target/release/fleetctl}
D=$(mktemp -d)
$BIN sim --write-kubeconfig $D/kubeconfig --state-dir $D/state > $D/sim.out 2>$D/sim.err &
SIM=$!
trap "kill $SIM; wait $SIM; rm -rf $D" EXIT
until grep -q "sim ready" $D/sim.out; do sleep 0.2; done
export KUBECONFIG=$D/kubeconfig
kubectl create secret generic agent-secrets -n agents \
  --from-literal=queue-url=amqp://guest:guest@127.0.0.1:5672/%2f \
  --from-literal=rabbitmq-host=amqp://guest:guest@127.0.0.1:5672/%2f >/dev/null
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -o $D/wall.$i $BIN smoke-test --poll 2s -o json > $D/run.$i.json
  echo "run $i: $(cat $D/wall.$i)s wall"
done
python3 - $D <<'PY'
import json,sys,statistics,glob
d=sys.argv[1]
runs=[json.load(open(f"{d}/run.{i}.json")) for i in range(1,6)]
assert all(r["result"]=="PASS" for r in runs), [r["reason"] for r in runs]
walls=[float(open(f"{d}/wall.{i}").read()) for i in range(1,6)]
for s in [x["name"] for x in runs[0]["steps"]]:
    v=[next(x for x in r["steps"] if x["name"]==s)["seconds"] for r in runs]
    print(f"| {s} | {statistics.median(v):.2f} | {min(v):.2f}–{max(v):.2f} |")
print(f"| total (report) | {statistics.median([r['seconds'] for r in runs]):.2f} | {min(r['seconds'] for r in runs):.2f}–{max(r['seconds'] for r in runs):.2f} |")
print(f"| wall (process) | {statistics.median(walls):.2f} | {min(walls):.2f}–{max(walls):.2f} |")
PY
