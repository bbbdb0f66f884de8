#!/usr/bin/env bash
# Run the atheris harnesses one after another (one core), each for its budget in seconds, and log
# wall time and executions per run. A crash ends that run; the input is kept under
# $WORK/crashes/ and the target restarts with the time it has left (at most 5 crashes per target).
#   tests/fuzz/campaign.sh pipeline=900 parse=600 condition=240 rule=240 redaction=240
set -uo pipefail
cd "$(dirname "$0")/../.."
WORK=${FUZZ_WORK:-/tmp/diagnoser-fuzz}
LOG=${FUZZ_LOG:-$WORK/campaign.log}
mkdir -p "$WORK/crashes"
for spec in "$@"; do
  target=${spec%%=*}
  left=${spec#*=}
  crashes=0
  while (( left > 5 && crashes < 5 )); do
    start=$(date +%s)
    out="$WORK/$target.run-$start.log"
    python3 tests/fuzz/run_atheris.py "$target" "$left" "$WORK/$target" >"$out" 2>&1
    rc=$?
    took=$(( $(date +%s) - start ))
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$out" | tail -1 | awk '{print $2}')
    echo "$(date -u +%FT%TZ) target=$target seconds=$took executions=${runs:-?} rc=$rc" >>"$LOG"
    left=$(( left - took ))
    if (( rc != 0 )); then
      crashes=$(( crashes + 1 ))
      for f in "$WORK/$target"/crash-* "$WORK/$target"/timeout-* "$WORK/$target"/oom-*; do
        [[ -e $f ]] && mv "$f" "$WORK/crashes/$target-$(basename "$f")"
      done
      cp "$out" "$WORK/crashes/$target-$start.log"
    fi
  done
done
# CI: a crash is a failure (use a fresh FUZZ_WORK: old crash files count); copy inputs to tests/fuzz/regressions/.
if compgen -G "$WORK/crashes/*-crash-*" >/dev/null || compgen -G "$WORK/crashes/*-timeout-*" >/dev/null \
   || compgen -G "$WORK/crashes/*-oom-*" >/dev/null; then
  echo "fuzzing found crashes: $(ls "$WORK/crashes")" >&2
  exit 1
fi
