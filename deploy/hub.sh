#!/bin/sh
# `hub` for operators: runs /opt/hub/.venv/bin/hub as the service does — user hub, settings from
# /etc/hub/hub.env, in /var/lib/hub. Install: install -m 755 /opt/hub/deploy/hub.sh /usr/local/bin/hub
# Then, as root: hub check-config, hub migrate, hub jobs, hub backup ...
set -eu
ENV_FILE=${HUB_ENV_FILE:-/etc/hub/hub.env}
set -a
. "$ENV_FILE"
set +a
cd /var/lib/hub
exec runuser -u hub -- /opt/hub/.venv/bin/hub "$@"
