#!/bin/bash
# Per-thread CPU of one `posture assess` (fresh cache): wall time, the cache's size and the
# CPU seconds (user + system) of the busiest threads, read from /proc every 0.3 s (Linux).
# Which thread is which: the writer is the busiest; perf names them (`perf script -F tid`).
# usage: tools/thread-cpu.sh BIN ESTATE DB
set -u
BIN=$1; EST=$2; DB=$3
rm -f "$DB" "$DB-wal" "$DB-shm"
start=$(date +%s.%N)
"$BIN" assess --source "$EST" --db "$DB" > /dev/null 2>&1 &
pid=$!
declare -A ticks
while kill -0 "$pid" 2>/dev/null; do
  for f in /proc/"$pid"/task/*/stat; do
    read -r line < "$f" 2>/dev/null || continue
    tid=${f#/proc/"$pid"/task/}; tid=${tid%/stat}
    # fields after the command name: state is 3, utime 14 and stime 15 of the whole line
    set -- ${line##*) }
    ticks[$tid]=$(( ${12} + ${13} ))
  done
  sleep 0.3
done
end=$(date +%s.%N)
hz=$(getconf CLK_TCK)
echo "wall $(echo "$end - $start" | bc) s, cache $(du -cb "$DB"* | tail -1 | cut -f1) bytes"
for t in "${!ticks[@]}"; do echo "${ticks[$t]}"; done | sort -rn | head -7 | awk -v hz="$hz" '{printf "  thread %.1f s\n", $1/hz}'
