#!/usr/bin/env bash
# `make run`: starts punt serve on its embedded SQLite and says where to find it.
set -euo pipefail
punt=build/punt
if (($#)); then punt=$1; shift; fi  # the rest goes to punt serve (make run ARGS=...)
data_dir=${PUNT_DATA_DIR:-./punt-data}
listen=${PUNT_LISTEN:-127.0.0.1:8080}
echo "punt: starting on http://$listen with data in $data_dir (Ctrl-C stops it)"
if [[ -z "${PUNT_ADMIN_KEY:-}" ]]; then
  echo "punt: the admin key is in $data_dir/admin.key (made at first start, mode 0600)"
fi
echo "punt: try  curl http://$listen/healthz"
exec "$punt" serve --listen "$listen" --data-dir "$data_dir" "$@"
