# Sourced by the bench scripts. `measure CMD...` runs CMD `$runs` times with its standard
# output in `$out` (the last run's), and prints "best_seconds max_rss_kb": the best wall time
# and the largest peak RSS (GNU time).
measure() {
  local best="" rss=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" -o "$out.time" "$@" >"$out" 2>/dev/null || true
    read -r s m < <(tail -n 1 "$out.time")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
    if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
  done
  echo "$best $rss"
}
