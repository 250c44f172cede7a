#!/usr/bin/env bash
# Load test: gunicorn with production settings on loopback, PostgreSQL seeded with demo data,
# Redis for cache and sessions, wrk driving mixed shopper traffic, then guests' product and category pages
# alone, then the bare /healthz view as the ceiling.
# Fails (exit 1) on any socket error or any 4xx/5xx. Results go to bench/out/load-<time>/.
#
#   bench/load/run.sh                               # the documented run: 50 connections, 60 s
#   DURATION=10 CONNECTIONS=10 bench/load/run.sh    # the CI check
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
GUNICORN=${GUNICORN:-$ROOT/.venv/bin/gunicorn}

DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
PORT=${PORT:-8105}
WORKERS=${WORKERS:-$(( $(nproc) * 2 ))}
WORKER_THREADS=${WORKER_THREADS:-4}
SIZE=${SIZE:-medium}
LOAD_DB=${LOAD_DB:-shop_load}
PGHOST=${PGHOST:-127.0.0.1}
PGUSER=${PGUSER:-postgres}
export PGHOST PGUSER

OUT=$ROOT/bench/out/load-$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

export DJANGO_SETTINGS_MODULE=config.settings.production
SECRET_KEY=$("$PY" -c "import secrets; print(secrets.token_urlsafe(64))")
export SECRET_KEY
export SECURE_SSL_REDIRECT=false
export ALLOWED_HOSTS=127.0.0.1
export DATABASE_URL=${LOAD_DATABASE_URL:-postgres://$PGUSER@$PGHOST:5432/$LOAD_DB}
export REDIS_URL=${LOAD_REDIS_URL:-redis://127.0.0.1:6379/5}
export CACHE_KEY_PREFIX=load
export STATIC_ROOT=$ROOT/bench/out/static
export ACCOUNT_EMAIL_VERIFICATION=mandatory
export LOG_LEVEL=WARNING

log() { printf '== %s\n' "$*" >&2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

log "database $LOAD_DB (seeded once, reused; RESET=1 starts it again)"
if [ "${RESET:-0}" = 1 ]; then
  dropdb --if-exists "$LOAD_DB"
fi
if ! psql -lqt | cut -d'|' -f1 | grep -qw "$LOAD_DB"; then
  createdb "$LOAD_DB"
fi
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo --if-empty --size "$SIZE"
# --sync: score in this process; no Celery worker runs during the load test.
"$PY" manage.py train_recommender --if-stale --sync
"$PY" manage.py collectstatic --noinput -v 0
redis-cli -u "$REDIS_URL" flushdb >/dev/null  # rate limits and caches from an earlier run

log "targets"
"$PY" manage.py shell -v 0 -c "from bench.load.targets import write; write('$OUT/targets.lua')"

log "gunicorn: $WORKERS workers x $WORKER_THREADS threads on 127.0.0.1:$PORT"
"$GUNICORN" config.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
  --worker-class gthread --threads "$WORKER_THREADS" --backlog 2048 \
  --access-logfile "$OUT/access.log" --access-logformat '%(m)s %(U)s?%(q)s %(s)s %(D)s' \
  --error-logfile "$OUT/gunicorn.log" &
GUNICORN_PID=$!
trap 'kill $GUNICORN_PID 2>/dev/null || true; wait $GUNICORN_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)" = 200 ] && break
  sleep 0.5
done

log "warm-up: every page once, each must answer 2xx/3xx"
"$PY" -m bench.load.warmup "http://127.0.0.1:$PORT" "$OUT/targets.lua" "$((WORKERS * WORKER_THREADS))"

URL="http://127.0.0.1:$PORT"
run_wrk() {  # $1 = label, $2.. = extra script args
  local label=$1; shift
  local start
  sleep 3  # requests queued by the previous run finish before this one is counted
  start=$(wc -l < "$OUT/access.log")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
    -s bench/load/shopper.lua "$URL" -- "$OUT/targets.lua" "$@" | tee "$OUT/wrk-$label.txt" >&2
  sleep 1  # let gunicorn flush its access log
  tail -n +"$((start + 1))" "$OUT/access.log" > "$OUT/access-$label.log"
}

log "mixed shopper traffic: $CONNECTIONS connections, ${DURATION}s"
run_wrk shop
log "guests' product and category pages: $CONNECTIONS connections, ${DURATION}s"
run_wrk guest guest
log "ceiling: bare /healthz, same server and settings"
run_wrk healthz healthz

"$PY" -m bench.load.report --out "$OUT" --duration "$DURATION" --connections "$CONNECTIONS" \
  --workers "$WORKERS" --worker-threads "$WORKER_THREADS" --size "$SIZE"
