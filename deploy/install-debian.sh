#!/usr/bin/env bash
# Install or update printerfacts behind nginx on a Debian (bookworm or later) host, as root:
#
#   deploy/install-debian.sh ./printerfacts-1.0.0-linux-x64 printerfacts.example.com
#
# Needs systemd as PID 1, nginx installed, and a certificate for the domain in
# /etc/letsencrypt/live/DOMAIN/ (e.g. apt-get install certbot python3-certbot-nginx && certbot
# certonly --nginx -d DOMAIN, as the README's quick start does). It checks all three before it
# changes anything.
#
# It runs INSTANCES instances (default 2): printerfacts@1.service, printerfacts@2.service, ...,
# each on /run/printerfacts-N/printerfacts.sock and one "server" line in nginx's upstream. Run it
# again with a new binary to update: the instances restart one at a time, and nginx sends each
# request to one that is up, so no request fails. Run it with another INSTANCES to change the number.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: [INSTANCES=N] $0 PATH/TO/printerfacts-VERSION-linux-TARGET DOMAIN" >&2
  exit 64
fi
binary=$1
domain=$2
instances=${INSTANCES:-2}
here=$(cd "$(dirname "$0")" && pwd)

# Preflight: one line naming what is missing, before anything on the host is changed.
fail() { echo "install-debian.sh: $1" >&2; exit "$2"; }
case $domain in
  *[!A-Za-z0-9.-]* | "" ) fail "DOMAIN must be a host name such as printerfacts.example.com, got: $domain" 64 ;;
esac
case $instances in
  [1-9] | [1-9][0-9] ) ;;
  * ) fail "INSTANCES must be a number from 1 to 99, got: $instances" 64 ;;
esac
[ -f "$binary" ] && [ -x "$binary" ] || fail "$binary is not an executable file" 66
"$binary" --version >/dev/null 2>&1 || fail "$binary does not run on this machine (wrong architecture?)" 66
[ "$(id -u)" = 0 ] || fail "run it as root" 77
# sd_booted(3): this directory exists only when systemd is PID 1.
[ -d /run/systemd/system ] || fail "systemd is not running as PID 1 here; these units need it" 69
command -v nginx >/dev/null && systemctl cat nginx.service >/dev/null 2>&1 ||
  fail "nginx is not installed: apt-get install nginx" 69
cert=/etc/letsencrypt/live/$domain
[ -r "$cert/fullchain.pem" ] && [ -r "$cert/privkey.pem" ] ||
  fail "no certificate for $domain in $cert/ (fullchain.pem, privkey.pem): get one first, e.g. certbot certonly --nginx -d $domain" 69

# The site first, for this domain, with one upstream line per instance: if nginx -t rejects it,
# the previous one is put back and nothing else has changed. nginx reads it at the reload below.
site=/etc/nginx/sites-available/printerfacts
upstreams=$(for i in $(seq 1 "$instances"); do
  printf '    server unix:/run/printerfacts-%s/printerfacts.sock max_fails=0;\\n' "$i"
done)
install -d /etc/nginx/sites-available /etc/nginx/sites-enabled
[ ! -e "$site" ] || cp -p "$site" "$site.previous"
sed -e "s/printerfacts\.example\.com/$domain/g" \
  -e '/^ *#\{0,1\} *server unix:\/run\/printerfacts/d' \
  -e "s|^upstream printerfacts {\$|&\\n$upstreams|" \
  "$here/nginx/printerfacts.conf" > "$site"
ln -sfn ../sites-available/printerfacts /etc/nginx/sites-enabled/printerfacts
if ! nginx -t -q; then
  if [ -e "$site.previous" ]; then mv -f "$site.previous" "$site"; else rm -f "$site" /etc/nginx/sites-enabled/printerfacts; fi
  fail "nginx -t rejected the site; the previous one is back in place" 1
fi
rm -f "$site.previous"
install -d /var/www/letsencrypt

# The binary: renamed into place, so running instances keep the old one until they restart.
install -m 0755 "$binary" /usr/local/bin/.printerfacts.new
mv -f /usr/local/bin/.printerfacts.new /usr/local/bin/printerfacts

# The user and group, the units, and nginx's drop-in.
install -D -m 0644 "$here/systemd/printerfacts.sysusers" /etc/sysusers.d/printerfacts.conf
systemd-sysusers /etc/sysusers.d/printerfacts.conf
install -D -m 0644 "$here/systemd/printerfacts@.service" /etc/systemd/system/printerfacts@.service
dropin=/etc/systemd/system/nginx.service.d/printerfacts.conf
nginx_restart=no
cmp -s "$here/systemd/nginx.service.d/printerfacts.conf" "$dropin" || nginx_restart=yes
install -D -m 0644 "$here/systemd/nginx.service.d/printerfacts.conf" "$dropin"
# Debian's nginx master runs as root and gives its workers www-data's groups from /etc/group
# (initgroups), so the drop-in's SupplementaryGroups= alone would not reach them.
adduser --quiet www-data printerfacts
systemctl daemon-reload

# One at a time: `restart` returns once the instance serves again (ExecStartPost waits for its
# socket), and meanwhile nginx sends its requests to the others.
for i in $(seq 1 "$instances"); do
  systemctl enable --quiet "printerfacts@$i.service"
  systemctl restart "printerfacts@$i.service"
done

# A new drop-in needs a restart (the master takes SupplementaryGroups= only at start); an update
# only a reload, which lets the old workers finish their requests.
if [ "$nginx_restart" = yes ] || ! systemctl is-active --quiet nginx.service; then
  systemctl restart nginx.service
else
  systemctl reload nginx.service
fi

# Instances beyond INSTANCES (from an earlier run with more), and the single printerfacts.service
# of earlier versions of this script: stopped once nginx no longer sends them requests.
for unit in $(systemctl list-units --all --plain --no-legend 'printerfacts@*.service' | awk '{print $1}'); do
  n=${unit#printerfacts@}; n=${n%.service}
  case $n in *[!0-9]* | "") continue ;; esac
  [ "$n" -le "$instances" ] || systemctl disable --now --quiet "$unit"
done
if [ -e /etc/systemd/system/printerfacts.service ]; then
  systemctl disable --now --quiet printerfacts.service
  rm -f /etc/systemd/system/printerfacts.service
  systemctl daemon-reload
fi

echo "printerfacts is serving through nginx with $instances instance(s); try: curl https://$domain/fact"
