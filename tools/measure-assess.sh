#!/bin/bash
# Whole-process figures of BENCHMARKS.md: `posture assess` of a 100k estate three times with
# each binary (alternating, a fresh cache each time), then per binary a 1M run and an unchanged
# re-run on the same cache, with wall time, peak RSS and the cache's size (`du -cb`, WAL
# included). Estates: target/release/examples/gen-estate --resources N --seed 1 --out DIR.
# usage: tools/measure-assess.sh OLD_BIN NEW_BIN [EST100K] [EST1M] [OUT]
set -u
OLD=$1; NEW=$2; E100=${3:-/tmp/est100k}; E1M=${4:-/tmp/est1m}; out=${5:-/tmp/measure.log}
echo "== $(date -u) old=$OLD new=$NEW" >> "$out"
for i in 1 2 3; do for v in old new; do
  bin=$([ $v = old ] && echo "$OLD" || echo "$NEW")
  rm -f /tmp/q-$v.db*
  /usr/bin/time -f "100k $v run$i %e s %M KB" "$bin" assess --source "$E100" --db /tmp/q-$v.db >/dev/null 2>>"$out.err"
  tail -1 "$out.err" >> "$out"
  echo "100k $v cache $(du -cb /tmp/q-$v.db* | tail -1 | cut -f1)" >> "$out"
done; done
for v in old new; do
  bin=$([ $v = old ] && echo "$OLD" || echo "$NEW")
  rm -f /tmp/q1m-$v.db*
  /usr/bin/time -f "1M $v first %e s %M KB" "$bin" assess --source "$E1M" --db /tmp/q1m-$v.db >/dev/null 2>>"$out.err"
  tail -1 "$out.err" >> "$out"
  a=$(du -cb /tmp/q1m-$v.db* | tail -1 | cut -f1); echo "1M $v cache $a" >> "$out"
  /usr/bin/time -f "1M $v rerun %e s %M KB" "$bin" assess --source "$E1M" --db /tmp/q1m-$v.db >/dev/null 2>>"$out.err"
  tail -1 "$out.err" >> "$out"
  b=$(du -cb /tmp/q1m-$v.db* | tail -1 | cut -f1); echo "1M $v cache-after-rerun $b growth $((b-a))" >> "$out"
done
echo "== done $(date -u)" >> "$out"
