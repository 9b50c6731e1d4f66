#!/bin/bash
# Results must stay identical across performance work: assess one estate with two binaries
# (fresh caches) and compare what a user reads — every finding with its evidence and
# remediation, each standard's controls, the improvement actions and the run's scores.
# usage: tools/compare-results.sh OLD_BIN NEW_BIN ESTATE [WORKDIR]
# Exit 0 when every listing is byte-identical; otherwise the listings that differ are named.
set -u
OLD=$1; NEW=$2; EST=$3; W=${4:-/tmp/compare-results}
rm -rf "$W"; mkdir -p "$W"
for v in old new; do
  bin=$([ $v = old ] && echo "$OLD" || echo "$NEW")
  "$bin" assess --source "$EST" --db "$W/$v.db" > "$W/$v.assess.txt" 2>&1 || { echo "$v: assess failed"; exit 2; }
  "$bin" findings --db "$W/$v.db" --format json > "$W/$v.findings.json"
  "$bin" actions --db "$W/$v.db" --format json > "$W/$v.actions.json"
  for s in $("$bin" standards list --format json | python3 -c 'import json,sys; [print(s["id"]) for s in json.load(sys.stdin)]'); do
    "$bin" controls "$s" --db "$W/$v.db" --format json > "$W/$v.controls.$s.json"
  done
  # the run's header without its times and id
  "$bin" history --db "$W/$v.db" --format json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); [x.pop(k,None) for x in r for k in ("id","started_at","finished_at","duration_ms")]; print(json.dumps(r,indent=1,sort_keys=True))' \
    > "$W/$v.history.json"
done
status=0
for f in "$W"/old.*.json; do
  n=${f#"$W"/old.}
  if ! cmp -s "$f" "$W/new.$n"; then echo "differs: $n"; status=1; fi
done
[ $status = 0 ] && echo "identical: $(ls "$W"/old.*.json | wc -l) listings, $(wc -c < "$W/old.findings.json") bytes of findings"
exit $status
