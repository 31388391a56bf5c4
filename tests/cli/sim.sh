# shellcheck shell=bash
# Helpers for the secagg-sim tests (t07NN-sim*.sh), sourced after lib.sh: reading a run's
# summary line, its table and its CSV.

if [[ ! -x $SECAGG_BIN/secagg-sim ]]; then
  echo "$TEST_NAME: $SECAGG_BIN/secagg-sim is missing (build first)" >&2
  exit 1
fi

# summary FILE: the summary line (the last line of a run's stdout).
summary() { tail -n 1 "$1"; }
# has_all FILE WORD...: the summary line of FILE has every WORD as a whole space-separated field
# (for "result=ABORTED at round N" pass the words separately).
has_all() {
  local f=$1 line w
  shift
  line=" $(summary "$f") "
  for w; do
    if [[ $line != *" $w "* ]]; then
      fail "summary of $f lacks '$w': $(summary "$f")"
      return 0
    fi
  done
  pass
}
# rows FILE: the round column of the table rows (round 3 only in an active session).
rows() { awk '$1 ~ /^(0|1|2|3|4|total)$/ { printf "%s ", $1 }' "$1" | sed 's/ $//'; }
# row_clients FILE ROUND: the clients column of a table row.
row_clients() { awk -v r="$2" '$1 == r { print $2 }' "$1"; }
# csv_col FILE NAME: the NAME column of every data row, space-separated.
csv_col() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                        { printf "%s%s", (NR > 2 ? " " : ""), $c } END { print "" }' "$1"
}
