#!/usr/bin/env bash
# The production stack on this machine: nginx (TLS, /static/, /media/) in front of gunicorn, with the
# Celery worker and beat beside it. Everything it writes (rendered nginx config, certificate, pids, logs)
# goes under STACK_DIR, never /etc.
#
#   deploy/stack.sh start     migrate, collect static files, start the four processes, wait until ready
#   deploy/stack.sh check     liveness, readiness, a product page and its image over HTTPS, metrics, logs
#   deploy/stack.sh stop      stop what start started (by the pids it recorded)
#   deploy/stack.sh restart
#
# Settings come from the environment or .env (see .env.example); DATABASE_URL and REDIS_URL are required.
# SEED=1 also fills an empty database with demo data (no staff login under production settings) and
# trains the recommender.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ -f .env ]; then set -a; . ./.env; set +a; fi
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.production}
STACK_DIR=${STACK_DIR:-$ROOT/var/stack}
VENV=${VENV:-$ROOT/.venv}
PY="$VENV/bin/python"
SERVER_NAME=${SERVER_NAME:-localhost}
HTTPS_PORT=${HTTPS_PORT:-8443}
HTTP_PORT=${HTTP_PORT:-8080}
APP_PORT=${APP_PORT:-8001}
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
CELERY_CONCURRENCY=${CELERY_CONCURRENCY:-2}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
LOGS="$STACK_DIR/logs"
PIDS="$STACK_DIR/pids"
BASE_URL="https://$SERVER_NAME:$HTTPS_PORT"

export ALLOWED_HOSTS=${ALLOWED_HOSTS:-$SERVER_NAME,127.0.0.1}
export CSRF_TRUSTED_ORIGINS=${CSRF_TRUSTED_ORIGINS:-$BASE_URL}
export TRUSTED_PROXIES=${TRUSTED_PROXIES:-127.0.0.1/32}  # nginx, below, is the only proxy
export STATIC_ROOT=${STATIC_ROOT:-$ROOT/staticfiles}
export MEDIA_ROOT=${MEDIA_ROOT:-$ROOT/media}
# Counters of every gunicorn worker and Celery process, summed by /metrics.
export PROMETHEUS_MULTIPROC_DIR="$STACK_DIR/prometheus"

log() { printf '== %s\n' "$*"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

require_settings() {
  mkdir -p "$STACK_DIR"
  [ -n "${DATABASE_URL:-}" ] || die "set DATABASE_URL (PostgreSQL; see .env.example)"
  [ -n "${REDIS_URL:-}" ] || die "set REDIS_URL (the broker and cache; see .env.example)"
  if [ -z "${SECRET_KEY:-}" ]; then
    # A machine-local key, kept across restarts so sessions survive; a real deployment sets its own.
    if [ ! -s "$STACK_DIR/secret-key" ]; then
      (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(64))' > "$STACK_DIR/secret-key")
    fi
    SECRET_KEY=$(cat "$STACK_DIR/secret-key"); export SECRET_KEY
  fi
}

tls_files() {
  TLS_CERT=${TLS_CERT:-$STACK_DIR/tls/cert.pem}
  TLS_KEY=${TLS_KEY:-$STACK_DIR/tls/key.pem}
  if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
    log "self-signed certificate for $SERVER_NAME (local runs only: give TLS_CERT/TLS_KEY for real ones)"
    mkdir -p "$(dirname "$TLS_CERT")"
    (umask 077; openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$SERVER_NAME" \
      -addext "subjectAltName=DNS:$SERVER_NAME,DNS:localhost,IP:127.0.0.1" \
      -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null)
    # A self-signed local run must not pin browsers to HTTPS for this host for a year.
    export SECURE_HSTS_SECONDS=${SECURE_HSTS_SECONDS:-0}
  fi
}

render_nginx() {
  local user_directive="" https_suffix=""
  [ "$(id -u)" = 0 ] && user_directive="user $(id -un) $(id -gn);"
  [ "$HTTPS_PORT" = 443 ] || https_suffix=":$HTTPS_PORT"
  mkdir -p "$STACK_DIR/nginx"
  sed -e "s#@USER_DIRECTIVE@#$user_directive#" -e "s#@RUN_DIR@#$STACK_DIR#g" -e "s#@APP_PORT@#$APP_PORT#g" \
      -e "s#@HTTP_PORT@#$HTTP_PORT#g" -e "s#@HTTPS_PORT@#$HTTPS_PORT#g" -e "s#@HTTPS_SUFFIX@#$https_suffix#g" \
      -e "s#@SERVER_NAME@#$SERVER_NAME#g" -e "s#@TLS_CERT@#$TLS_CERT#g" -e "s#@TLS_KEY@#$TLS_KEY#g" \
      -e "s#@STATIC_ROOT@#$STATIC_ROOT#g" -e "s#@MEDIA_ROOT@#$MEDIA_ROOT#g" \
      deploy/nginx.conf.template > "$STACK_DIR/nginx.conf"
  "$NGINX" -t -q -c "$STACK_DIR/nginx.conf" -p "$STACK_DIR" -e "$LOGS/nginx-error.log"
}

running() { [ -s "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

spawn() {  # spawn NAME COMMAND...: in its own session, output to logs/NAME.log, pid to pids/NAME.pid
  local name=$1; shift
  running "$name" && { log "$name already running (pid $(cat "$PIDS/$name.pid"))"; return; }
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
  log "$name started (pid $!, log $LOGS/$name.log)"
}

wait_ready() {
  # Generous: on a busy machine gunicorn's workers take a while to import everything.
  for _ in $(seq 1 ${READY_TIMEOUT:-180}); do
    if [ "$(curl -sk -o /dev/null -w '%{http_code}' "$BASE_URL/readyz")" = 200 ]; then return 0; fi
    for name in web worker beat; do running "$name" || die "$name exited: see $LOGS/$name.log"; done
    sleep 1
  done
  curl -sk "$BASE_URL/readyz" || true; echo
  die "not ready after ${READY_TIMEOUT:-180} s"
}

start() {
  mkdir -p "$STACK_DIR" "$LOGS" "$PIDS"
  require_settings
  tls_files
  "$PY" manage.py check --deploy --fail-level ERROR
  log "migrate and collect static files"
  "$PY" manage.py migrate --noinput
  "$PY" manage.py collectstatic --noinput -v 0
  if [ "${SEED:-0}" = 1 ]; then
    log "demo data (an empty database only) and the recommender"
    "$PY" manage.py seed_demo --if-empty --size "${SIZE:-small}"
    "$PY" manage.py train_recommender --if-stale
  fi
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  render_nginx
  spawn web "$VENV/bin/gunicorn" config.wsgi:application --bind "127.0.0.1:$APP_PORT" \
    --workers "$WEB_CONCURRENCY" --timeout 60 --forwarded-allow-ips 127.0.0.1 \
    --max-requests 2000 --max-requests-jitter 200
  spawn worker "$VENV/bin/celery" -A config worker --loglevel INFO --concurrency "$CELERY_CONCURRENCY" \
    --hostname "shop@%h"
  spawn beat "$VENV/bin/celery" -A config beat --loglevel INFO --schedule "$STACK_DIR/celerybeat-schedule"
  if running nginx; then
    "$NGINX" -c "$STACK_DIR/nginx.conf" -p "$STACK_DIR" -s reload
  else
    "$NGINX" -c "$STACK_DIR/nginx.conf" -p "$STACK_DIR" -e "$LOGS/nginx-error.log" -g "daemon off;" \
      >> "$LOGS/nginx.log" 2>&1 < /dev/null &
    echo $! > "$PIDS/nginx.pid"
    log "nginx started (pid $!): $BASE_URL (http://$SERVER_NAME:$HTTP_PORT redirects there)"
  fi
  wait_ready
  log "ready: $BASE_URL"
}

stop() {
  for name in nginx beat worker web; do
    if running "$name"; then
      local pid; pid=$(cat "$PIDS/$name.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
      log "$name stopped"
    fi
    rm -f "$PIDS/$name.pid"
  done
}

check() {
  local failed=0 tmp; tmp=$(mktemp -d)
  require_settings
  ok() { printf '  ok    %s\n' "$*"; }
  bad() { printf '  FAIL  %s\n' "$*"; failed=1; }
  for name in web worker beat nginx; do running "$name" && ok "$name running" || bad "$name not running"; done

  [ "$(curl -sk "$BASE_URL/healthz")" = ok ] && ok "/healthz (liveness)" || bad "/healthz"
  local code; code=$(curl -sk -o "$tmp/ready.json" -w '%{http_code}' "$BASE_URL/readyz")
  [ "$code" = 200 ] && ok "/readyz: $(cat "$tmp/ready.json")" || bad "/readyz $code: $(cat "$tmp/ready.json")"
  code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://$SERVER_NAME:$HTTP_PORT/")
  [ "${code%% *}" = 301 ] && [ "${code#* }" = "$BASE_URL/" ] && ok "http redirects to $BASE_URL/" \
    || bad "http redirect: $code"

  # A product that has an image: its page over HTTPS must name the image, and the image must load.
  local product image
  read -r product image < <("$PY" manage.py shell -v 0 -c "
from shop.models import ProductImage
i = ProductImage.objects.select_related('product').filter(product__is_active=True).order_by('pk').first()
print(i.product.get_absolute_url(), i.image.url) if i else print('- -')") || true
  if [ "${product:--}" = - ]; then
    bad "no product with an image in the database (start with SEED=1)"
  else
    code=$(curl -sk -o "$tmp/product.html" -w '%{http_code}' "$BASE_URL$product")
    [ "$code" = 200 ] && ok "product page $product: 200" || bad "product page $product: $code"
    grep -qF "$image" "$tmp/product.html" && ok "the page shows $image" || bad "the page does not show $image"
    code=$(curl -sk -o /dev/null -w '%{http_code} %{content_type}' "$BASE_URL$image")
    [ "${code%% *}" = 200 ] && [[ "${code#* }" == image/* ]] && ok "image $image: $code" || bad "image: $code"
  fi
  local static_css; static_css=$(grep -o '/static/[^"]*\.css' "$tmp/product.html" 2>/dev/null | head -1 || true)
  if [ -n "$static_css" ]; then
    code=$(curl -sk -o /dev/null -w '%{http_code}' "$BASE_URL$static_css")
    [ "$code" = 200 ] && ok "static $static_css: 200" || bad "static $static_css: $code"
  fi

  # The client's address reaches Django from nginx, and a forged X-Forwarded-For does not.
  local request_id
  request_id=$(curl -sk -D - -o /dev/null -H "X-Forwarded-For: 198.51.100.66" "$BASE_URL/healthz" \
    | tr -d '\r' | awk 'tolower($1) == "x-request-id:" {print $2}')
  [ -n "$request_id" ] && ok "responses carry X-Request-ID ($request_id)" || bad "no X-Request-ID on responses"
  sleep 1
  local line; line=$(grep -F "\"request_id\": \"${request_id:-none}\"" "$LOGS/web.log" | tail -1 || true)
  if [ -z "$line" ]; then
    bad "no JSON log line with request id ${request_id:-?} in $LOGS/web.log"
  elif ! grep -qF '"client": "127.0.0.1"' <<<"$line"; then
    bad "the log line does not name the client's real address: $line"
  else
    ok "JSON log line with the request id and the client's address (a forged X-Forwarded-For ignored)"
    printf '        %s\n' "$line"
  fi

  curl -sk -o "$tmp/metrics.txt" "$BASE_URL/metrics"
  grep -q '^django_http_requests_total_by_method_total' "$tmp/metrics.txt" && \
    grep -q '^shop_recommender_active_run ' "$tmp/metrics.txt" && ok "/metrics from this machine" \
    || bad "/metrics from this machine"
  rm -rf "$tmp"
  return $failed
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  check) check ;;
  *) echo "usage: $0 start|stop|restart|check" >&2; exit 2 ;;
esac
