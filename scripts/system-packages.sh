#!/bin/sh
# Install the Debian packages the hub needs, only those missing. Usage: system-packages.sh run|test|bench|prod
set -eu
case "${1:-run}" in
  run)   want="libsqlite3-mod-spatialite python3-venv" ;;
  test)  want="libsqlite3-mod-spatialite python3-venv postgresql-15-postgis-3 chromium chromium-driver nginx-light" ;;
  bench) want="libsqlite3-mod-spatialite python3-venv postgresql-15-postgis-3 wrk nginx-light" ;;
  prod)  want="libsqlite3-mod-spatialite python3-venv postgresql-15 postgresql-15-postgis-3 redis-server nginx-light ca-certificates" ;;
  *) echo "usage: $0 run|test|bench|prod" >&2; exit 2 ;;
esac
missing=""
for pkg in $want; do
  # python3-venv is only needed when the interpreter has no venv module of its own
  if [ "$pkg" = python3-venv ] && python3 -c "import ensurepip, venv" 2>/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "Installing Debian packages:$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
