#!/usr/bin/env bash
# The database holds the events (learners' data): its files are readable by
# punt's user only (0600), whatever the umask, new or made by an older punt.
set -euo pipefail
punt=${1:?usage: data_file_modes.test.sh PATH_TO_PUNT}
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/test/blackbox/lib/serve.sh"

# check_modes: every database file (the WAL and its index exist while punt runs) is 0600.
check_modes() {
  local f mode
  for f in punt.db punt.db-wal punt.db-shm; do
    [[ -e "$tmp/data/$f" ]] || fail "$f does not exist"
    mode=$(stat -c %a "$tmp/data/$f")
    [[ $mode == 600 ]] || fail "$f has mode $mode, not 600 ($1)"
  done
}

umask 022
start_serve
check_modes "a new data dir, umask 022"
echo "ok: a new database's files are 0600"

stop_punt
chmod 0644 "$tmp/data"/punt.db*
start_serve
check_modes "files left 0644 by an older punt"
echo "ok: database files left readable by others are made 0600 at start"
