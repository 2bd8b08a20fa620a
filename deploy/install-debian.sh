#!/usr/bin/env bash
# Install printerfacts behind nginx on a plain Debian (bookworm or later) host, as root:
#
#   deploy/install-debian.sh ./printerfacts-1.0.0-linux-x64 printerfacts.example.com
#
# Needs nginx installed and a certificate for the domain in /etc/letsencrypt/live/DOMAIN/
# (e.g. apt-get install certbot && certbot certonly --standalone -d DOMAIN while port 80 is free).
# Safe to run again for an update: it replaces the binary and restarts the service.
# DESTDIR=/some/dir only writes the files under that directory and starts nothing (for tests).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 PATH/TO/printerfacts-VERSION-linux-TARGET DOMAIN" >&2
  exit 64
fi
binary=$1
domain=$2
here=$(cd "$(dirname "$0")" && pwd)
root=${DESTDIR:-}

case $domain in
  *[!A-Za-z0-9.-]* | "" ) echo "DOMAIN must be a host name such as printerfacts.example.com, got: $domain" >&2; exit 64 ;;
esac
[ -x "$binary" ] || { echo "$binary is not an executable file" >&2; exit 66; }
"$binary" --version >/dev/null || { echo "$binary does not run on this machine (wrong architecture?)" >&2; exit 1; }

# The binary, the user and group, the units, and nginx's drop-in.
install -D -m 0755 "$binary" "$root/usr/local/bin/printerfacts"
install -D -m 0644 "$here/systemd/printerfacts.sysusers" "$root/etc/sysusers.d/printerfacts.conf"
install -D -m 0644 "$here/systemd/printerfacts.service" "$root/etc/systemd/system/printerfacts.service"
install -D -m 0644 "$here/systemd/nginx.service.d/printerfacts.conf" "$root/etc/systemd/system/nginx.service.d/printerfacts.conf"

# The site, for this domain.
install -d "$root/etc/nginx/sites-available" "$root/etc/nginx/sites-enabled" "$root/var/www/letsencrypt"
sed "s/printerfacts\.example\.com/$domain/g" "$here/nginx/printerfacts.conf" > "$root/etc/nginx/sites-available/printerfacts"
ln -sfn ../sites-available/printerfacts "$root/etc/nginx/sites-enabled/printerfacts"

if [ -n "$root" ]; then
  echo "installed under $root; nothing started"
  exit 0
fi

systemd-sysusers /etc/sysusers.d/printerfacts.conf
# Debian's nginx master runs as root and gives its workers www-data's groups from /etc/group
# (initgroups), so the drop-in's SupplementaryGroups= alone would not reach them.
adduser --quiet www-data printerfacts
systemctl daemon-reload
systemctl enable printerfacts.service
systemctl restart printerfacts.service
nginx -t
# A restart, not a reload: nginx's master must pick up the drop-in's group.
systemctl restart nginx.service

echo "printerfacts is serving on /run/printerfacts/printerfacts.sock; try: curl https://$domain/fact"
