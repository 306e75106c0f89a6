#!/usr/bin/env bash
# Builds the Vagrant box `tscni/bookworm64` (libvirt provider) from Debian packages only, and adds it to Vagrant.
#   sudo bash test/vagrant/build-box.sh        # prints the .box path; reuses a cached build of this very script
# The box: a debootstrapped bookworm (kernel, openssh-server, sudo, rsync, nftables) on one ext4 disk (qcow2),
# GRUB in the MBR gap (no grub package in the guest), a `vagrant` user whose key pair the box carries. Cached by
# content: the file name holds a hash of this script, so changing it builds a new box.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TSCNI_BOX_CACHE:-/var/cache/tscni/vagrant}
mirror=${TSCNI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
name=tscni/bookworm64
hash=$(cat "$here/build-box.sh" "$here/box.Vagrantfile" | sha256sum | cut -c1-12)
box=$cache/bookworm64-$hash.box

if [ "$(id -u)" != 0 ]; then echo "build-box: run as root (debootstrap)" >&2; exit 1; fi
mkdir -p "$cache"

if [ ! -s "$box" ]; then
  for cmd in debootstrap qemu-img mkfs.ext4 sfdisk grub-mkimage ssh-keygen; do
    command -v "$cmd" >/dev/null || { echo "build-box: $cmd not found (apt-get install debootstrap qemu-utils e2fsprogs fdisk grub-pc-bin openssh-client)" >&2; exit 1; }
  done
  work=$(mktemp -d "$cache/build.XXXXXX")
  [ -n "${TSCNI_BOX_KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
  root=$work/root
  start=$(date +%s)
  echo "build-box: debootstrap bookworm from $mirror"
  debootstrap --include=linux-image-amd64,openssh-server,sudo,rsync,nftables,ca-certificates,ifupdown,isc-dhcp-client \
    bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

  echo tscni-box > "$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 tscni-box\n::1 localhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
  printf 'LABEL=root / ext4 defaults,errors=remount-ro 0 1\n' > "$root/etc/fstab"
  printf 'auto lo\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n' > "$root/etc/network/interfaces"
  cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
  chroot "$root" useradd -m -s /bin/bash -G sudo vagrant
  echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > "$root/etc/sudoers.d/vagrant"
  chmod 0440 "$root/etc/sudoers.d/vagrant"
  ssh-keygen -q -t ed25519 -N '' -C vagrant@tscni-box -f "$work/vagrant_key"
  install -d -m 0700 -o 1000 -g 1000 "$root/home/vagrant/.ssh"
  install -m 0600 -o 1000 -g 1000 "$work/vagrant_key.pub" "$root/home/vagrant/.ssh/authorized_keys"
  printf 'UseDNS no\n' > "$root/etc/ssh/sshd_config.d/vagrant.conf"
  # Host keys are made at first boot, so no two VMs share them.
  rm -f "$root"/etc/ssh/ssh_host_*
  mkdir -p "$root/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    > "$root/etc/systemd/system/ssh.service.d/hostkeys.conf"
  # A test box's kernel never changes: packages that trigger an initramfs rebuild (minutes under emulation) skip it.
  sed -i 's/^update_initramfs=.*/update_initramfs=no/' "$root/etc/initramfs-tools/update-initramfs.conf"
  grep -qx update_initramfs=no "$root/etc/initramfs-tools/update-initramfs.conf"
  chroot "$root" apt-get clean
  [ -e "$root/vmlinuz" ] && [ -e "$root/initrd.img" ] || { echo "build-box: no /vmlinuz or /initrd.img in the root" >&2; exit 1; }

  # One MBR partition holding the root file system (made from the folder, no mount), and GRUB in the MBR gap with
  # its configuration built in: it boots /vmlinuz with /initrd.img from that partition.
  echo "build-box: disk image"
  truncate -s 40G "$work/disk.raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$work/disk.raw"
  mkfs.ext4 -q -L root -E offset=1048576 -d "$root" "$work/disk.raw" $(( 40 * 1024 * 1024 - 1024 ))K
  printf '%s\n' 'set root=(hd0,msdos1)' \
    'linux /vmlinuz root=LABEL=root rw console=tty0 console=ttyS0 net.ifnames=0' 'initrd /initrd.img' 'boot' \
    > "$work/grub.cfg"
  grub-mkimage -O i386-pc -o "$work/core.img" -c "$work/grub.cfg" -p '(hd0,msdos1)/boot/grub' \
    biosdisk part_msdos ext2 linux
  [ "$(stat -c %s "$work/core.img")" -le $(( 2047 * 512 )) ] || { echo "build-box: core.img too big" >&2; exit 1; }
  dd if=/usr/lib/grub/i386-pc/boot.img of="$work/disk.raw" bs=440 count=1 conv=notrunc status=none
  dd if="$work/core.img" of="$work/disk.raw" bs=512 seek=1 conv=notrunc status=none
  qemu-img convert -c -O qcow2 "$work/disk.raw" "$work/box.img"
  rm -f "$work/disk.raw"
  printf '{"provider":"libvirt","format":"qcow2","virtual_size":40}\n' > "$work/metadata.json"
  cp "$here/box.Vagrantfile" "$work/Vagrantfile"
  tar -C "$work" -cf "$box.tmp" metadata.json Vagrantfile box.img vagrant_key
  mv "$box.tmp" "$box"
  echo "build-box: built $box in $(( $(date +%s) - start )) s ($(du -h "$box" | cut -f1))"
fi

# Add it to Vagrant unless this very build is already there (the box's version records the hash).
if ! grep -qx "$hash" "${VAGRANT_HOME:-$HOME/.vagrant.d}/boxes/${name//\//-VAGRANTSLASH-}/0/libvirt/tscni-hash" 2>/dev/null; then
  VAGRANT_CHECKPOINT_DISABLE=1 vagrant box add --force --name "$name" "$box" >/dev/null
  echo "$hash" > "${VAGRANT_HOME:-$HOME/.vagrant.d}/boxes/${name//\//-VAGRANTSLASH-}/0/libvirt/tscni-hash"
fi
echo "$box"
