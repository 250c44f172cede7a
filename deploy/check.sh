#!/usr/bin/env bash
# CI step: bring the production stack (deploy/stack.sh) up on a fresh database with demo data, check it
# over HTTPS (a product page and its image, readiness, logs, metrics), then stop it. Needs PostgreSQL and
# Redis running on 127.0.0.1 (.ci/run starts them) and installs nginx if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl >/dev/null) \
    || { echo "could not install nginx"; exit 1; }
fi
make setup >/dev/null

DB=${STACK_DB:-shop_ci_stack}
REDIS_DB=${STACK_REDIS_DB:-13}
dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
createdb -h 127.0.0.1 -U postgres "$DB"
redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" flushdb >/dev/null

STACK_DIR=$(mktemp -d /tmp/shop-stack-XXXX)
export STACK_DIR MEDIA_ROOT="$STACK_DIR/media" STATIC_ROOT="$STACK_DIR/static" SEED=1 SIZE=small
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" REDIS_URL="redis://127.0.0.1:6379/$REDIS_DB"
unset SECRET_KEY DJANGO_SETTINGS_MODULE  # the stack's own: production settings, a machine-local key

show_logs() {
  for f in "$STACK_DIR"/logs/*.log; do echo "--- $f"; tail -30 "$f"; done
}
trap 'deploy/stack.sh stop || true' EXIT

deploy/stack.sh start || { show_logs; exit 1; }
deploy/stack.sh check || { show_logs; exit 1; }
echo "the production stack served a product page and its image over HTTPS"
