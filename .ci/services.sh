#!/usr/bin/env bash
# Starts PostgreSQL, Redis and RabbitMQ on 127.0.0.1 when they are not answering, and installs the Debian
# packages the tests run themselves (prometheus, chromium). Idempotent.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Prometheus: tests/servers/prometheus.py starts its own on a free port with its own config and data folder, so
# the packaged service (port 9090) is stopped and disabled if the install started it.
if ! command -v prometheus >/dev/null && command -v apt-get >/dev/null; then
  log=/tmp/importau-apt-prometheus.log
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q --no-install-recommends prometheus \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus; }; } >"$log" 2>&1 \
    || echo "services.sh: installing prometheus failed, see $log"
  if [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ]; then
    /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
fi
# Chromium: tests/marts/test_cockpit_browser.py drives Debian's headless chromium over the DevTools protocol
# (tests/servers/chromium.py); nothing is downloaded at test time.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  log=/tmp/importau-apt-chromium.log
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -q --no-install-recommends chromium \
    || { apt-get update -q && apt-get install -y -q --no-install-recommends chromium; }; } >"$log" 2>&1 \
    || echo "services.sh: installing chromium failed, see $log"
fi
if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if ! up 5672 && command -v rabbitmq-server >/dev/null; then
  rabbitmq-server -detached || true
fi
for port in 5432 5672; do
  for _ in $(seq 1 60); do up "$port" && break; sleep 1; done
done
exit 0
