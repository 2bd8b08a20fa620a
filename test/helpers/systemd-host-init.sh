#!/bin/bash
# PID 1 of a throwaway systemd host, before it becomes systemd (test/helpers/systemd-host.ts runs it
# inside unshare --fork --pid --mount --net --ipc --uts --cgroup --mount-proc). Everything here
# happens in the new mount namespace: nothing reaches the machine running the tests.
#   systemd-host-init.sh STATE_DIR TARGET MASKED_UNIT...
set -euo pipefail
state=$1 target=$2
shift 2

mount --make-rprivate /
# Mounts of the machine under the directories this host gets its own of (say, a podman shm in /tmp).
findmnt -rn -o TARGET | grep -E '^/(dev|run|tmp|var/tmp)/' | sort -r | xargs -r -n1 umount -l
# Writable layers where an install writes; upper dirs live in STATE_DIR (removed by stop()).
for d in etc var usr/local opt; do
  n=${d//\//_}
  mkdir -p "$state/upper/$n" "$state/work/$n"
done
mkdir -p "$state/upper/etc/systemd/system"
# Units that would change the shared kernel or machine, or only take time: masked.
for unit in "$@"; do ln -sfn /dev/null "$state/upper/etc/systemd/system/$unit"; done
# No fstab: its swap and mount entries are the machine's, not this host's.
: > "$state/upper/etc/fstab"
echo pf-systemd-host > "$state/upper/etc/hostname"
for d in etc var usr/local opt; do
  n=${d//\//_}
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$state/upper/$n,workdir=$state/work/$n" "/$d"
done

# Directories of the machine shown in the host, read-only, in its own layers (STATE_DIR/shares:
# "SOURCE<tab>DEST" lines), bound before /tmp, where SOURCE may be, is covered.
if [ -f "$state/shares" ]; then
  while IFS=$'\t' read -r src dest; do
    mkdir -p "$dest"
    mount --bind "$src" "$dest"
    mount -o remount,bind,ro "$dest"
  done < "$state/shares"
fi

# A /dev of its own with only the usual nodes (systemd-tmpfiles-setup-dev would add to the real one).
mkdir -p "$state/dev"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$state/dev"
for n in null zero full random urandom tty; do
  touch "$state/dev/$n"
  mount --bind "/dev/$n" "$state/dev/$n"
done
mkdir -p "$state/dev/pts" "$state/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$state/dev/pts"
ln -s pts/ptmx "$state/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$state/dev/shm"
ln -s /proc/self/fd "$state/dev/fd"
mount --move "$state/dev" /dev

# Its own /run, /tmp and /var/tmp: at boot systemd-tmpfiles empties /tmp.
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp

# cgroup2 rooted at this host's own cgroup (the cgroup namespace's root), not the machine's.
umount -R /sys/fs/cgroup 2>/dev/null || umount -l /sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup

# Everything else of the machine read-only in here: / and the kernel's /sys.
mount -o remount,bind,ro /
mount -o remount,bind,ro /sys 2>/dev/null || true
for p in /proc/sys /proc/sysrq-trigger; do
  if [ -e "$p" ]; then mount --bind "$p" "$p" && mount -o remount,bind,ro "$p"; fi
done

ip link set lo up
exec env -i container=other PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --unit="$target" --show-status=no
