#!/usr/bin/env bash
# build-images.sh — build ecloud's builtin images into the local Docker engine (idempotent, fast
# on a second run).
#
# Images (each for amd64 and arm64; arm64 runs here under qemu-user-static):
#   ecloud/debian:bookworm-amd64   ecloud/debian:bookworm-arm64    debootstrap minbase of bookworm
#   ecloud/busybox:latest-amd64    ecloud/busybox:latest-arm64     Debian's busybox-static
# and, when the internal registry answers on 127.0.0.1:5000, ecloud/busybox:latest-amd64 is pushed
# there as 127.0.0.1:5000/samples/busybox:1.0.
#
# Reuse:
#   * an image whose tag exists with the right architecture and recipe label is skipped;
#   * root file systems are cached as tarballs under /var/cache/ecloud-images, so an engine that
#     lost its images re-imports them in seconds (delete a tarball, or pass --no-cache, to rebuild).
# Docker Hub is never asked: nothing is pulled, every `docker run` has `--pull never`.
#
# Usage: scripts/build-images.sh [--rebuild] [--no-cache] [--arch amd64|arm64] [--only debian|busybox]
#                                [--no-verify] [--no-push]
#   --rebuild   re-import images even when their tags exist (reusing cached tarballs)
#   --no-cache  also rebuild the cached root file systems (debootstrap, busybox)
# Needs: scripts/host-services.sh done before (dockerd, binfmt for arm64, registry).
set -euo pipefail

ECLOUD_SCRIPT_NAME=build-images
# shellcheck source=scripts/lib.sh
. "$(dirname "$(readlink -f "$0")")/lib.sh"

# Bump when what goes into an image changes: older images and tarballs are then rebuilt.
RECIPE=2
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY_MIRROR=http://deb.debian.org/debian-security
DEBIAN_INCLUDE=bash,procps,ca-certificates,openssh-sftp-server,iproute2,curl
CACHE=/var/cache/ecloud-images
WORK=$CACHE/work
LOGS=$CACHE/logs
REGISTRY=127.0.0.1:5000
SAMPLE_REF=$REGISTRY/samples/busybox:1.0
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL_KEY=org.ecloud.image.recipe

ARCHES=(amd64 arm64)
ONLY=""
REBUILD=false
NO_CACHE=false
VERIFY=true
PUSH=true
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) REBUILD=true ;;
    --no-cache) NO_CACHE=true; REBUILD=true ;;
    --arch) shift; case "${1:-}" in amd64|arm64) ARCHES=("$1") ;; *) die "--arch takes amd64 or arm64" ;; esac ;;
    --only) shift; case "${1:-}" in debian|busybox) ONLY=$1 ;; *) die "--only takes debian or busybox" ;; esac ;;
    --no-verify) VERIFY=false ;;
    --no-push) PUSH=false ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "must run as root"
for cmd in docker debootstrap dpkg-deb apt-get tar curl; do
  command -v "$cmd" >/dev/null || die "$cmd is missing: run scripts/host-services.sh first"
done
docker_answers || die "docker does not answer: run scripts/host-services.sh first"
docker_env

mkdir -p "$CACHE" "$WORK" "$LOGS"
exec 9>/run/lock/ecloud-build-images.flock
flock -w 1800 9 || die "another build-images.sh is still running"

HOST_ARCH=$(dpkg --print-architecture)

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
T_STEP=""
step_begin() { T_STEP=$(now_s); }
step_end() { log "$1 ($(elapsed "$T_STEP") s)"; }

uname_of() { case "$1" in amd64) echo x86_64 ;; arm64) echo aarch64 ;; *) die "unknown arch $1" ;; esac; }
qemu_of() { case "$1" in arm64) echo qemu-aarch64-static ;; *) die "no qemu for $1" ;; esac; }

# Unmount everything mounted at or below DIR (deepest first). debootstrap mounts /proc, /sys and
# possibly binds /dev inside its target; never delete or pack a tree with those still mounted.
unmount_under() {
  local dir m
  dir=$(readlink -f "$1")
  [ -d "$dir" ] || return 0
  while read -r m; do
    [ -n "$m" ] || continue
    umount "$m" 2>/dev/null || umount -l "$m" || warn "cannot unmount $m"
  done < <(findmnt -rn -o TARGET | awk -v d="$dir" '$0 == d || index($0, d "/") == 1' | sort -r)
}

remove_tree() {
  [ -e "$1" ] || return 0
  unmount_under "$1"
  if findmnt -rn -o TARGET | awk -v d="$(readlink -f "$1")" 'index($0, d "/") == 1 { f = 1 } END { exit !f }'; then
    die "mounts remain under $1; refusing to delete it"
  fi
  rm -rf --one-file-system "$1"
}

cleanup() {
  local d
  for d in "$WORK"/*; do
    [ -e "$d" ] && unmount_under "$d"
  done
  return 0
}
trap cleanup EXIT

# image_current TAG ARCH: the tag exists, has ARCH and was made by this recipe.
image_current() {
  local got
  got=$(docker image inspect -f "{{.Architecture}} {{index .Config.Labels \"$LABEL_KEY\"}}" "$1" 2>/dev/null) || return 1
  [ "$got" = "$2 $RECIPE" ]
}

# pack_rootfs DIR TARBALL: tar the tree (numeric owners, keeping xattrs), atomically.
pack_rootfs() {
  local dir=$1 out=$2
  unmount_under "$dir"
  tar -C "$dir" --numeric-owner --xattrs --xattrs-include='security.capability' \
      --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
      -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
}

# import_rootfs TARBALL TAG ARCH CMD: make TAG for linux/ARCH from TARBALL and check its platform.
# `docker import --platform` does not record a foreign architecture with Debian's dockerd 20.10
# (the image says amd64), so a foreign arch is built from scratch with the classic builder, which does.
import_rootfs() {
  local tarball=$1 tag=$2 arch=$3 cmd=$4 got out old
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ "$arch" = "$HOST_ARCH" ]; then
    docker import --platform "linux/$arch" --change "ENV PATH=$PATH_ENV" --change "CMD $cmd" \
      --change "LABEL $LABEL_KEY=$RECIPE" - "$tag" <"$tarball" >/dev/null
  else
    local ctx="$WORK/build-ctx-$arch"
    remove_tree "$ctx"
    mkdir -p "$ctx"
    ln "$tarball" "$ctx/rootfs.tar" 2>/dev/null || cp "$tarball" "$ctx/rootfs.tar"
    cat >"$ctx/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=$PATH_ENV
LABEL $LABEL_KEY=$RECIPE
CMD $cmd
EOF
    # The client warns that the classic builder is deprecated: show its output on failure only.
    if ! out=$(DOCKER_BUILDKIT=0 docker build -q --platform "linux/$arch" -t "$tag" "$ctx" 2>&1); then
      printf '%s\n' "$out" >&2
      rm -rf "$ctx"
      die "docker build of $tag failed"
    fi
    rm -rf "$ctx"
  fi
  got=$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$tag")
  [ "$got" = "linux/$arch" ] || die "$tag reports platform '$got', expected linux/$arch"
  # drop the image this tag replaced, unless something still uses it
  if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

# ---------------------------------------------------------------------------------------------
# Debian bookworm (debootstrap minbase)
# ---------------------------------------------------------------------------------------------
debootstrap_rootfs() {
  local arch=$1 out=$2 dir="$WORK/debian-$SUITE-$arch" dlog="$LOGS/debootstrap-$SUITE-$arch.log"
  local debs="$CACHE/debootstrap-debs/$SUITE-$arch"
  remove_tree "$dir"
  mkdir -p "$dir" "$debs"
  if [ "$arch" != "$HOST_ARCH" ] && [ ! -f "/proc/sys/fs/binfmt_misc/$(qemu_of "$arch" | sed 's/-static$//')" ]; then
    die "binfmt for $arch is not registered: run scripts/host-services.sh first"
  fi
  log "debian/$arch: debootstrap $SUITE minbase (log $dlog)"
  # The same command for both arches: with qemu-user-static registered with the F flag,
  # debootstrap runs the second stage of a foreign arch itself (it checks with arch-test).
  if ! debootstrap --variant=minbase --arch "$arch" --include="$DEBIAN_INCLUDE" \
        --cache-dir="$debs" "$SUITE" "$dir" "$MIRROR" >"$dlog" 2>&1; then
    unmount_under "$dir"
    tail -n 30 "$dlog" >&2
    [ -f "$dir/debootstrap/debootstrap.log" ] && tail -n 30 "$dir/debootstrap/debootstrap.log" >&2
    die "debian/$arch: debootstrap failed; see $dlog"
  fi
  unmount_under "$dir"
  [ -x "$dir/bin/bash" ] && [ ! -d "$dir/debootstrap" ] || die "debian/$arch: debootstrap left an incomplete tree in $dir"
  # apt sources including security updates, like Debian's own images
  cat >"$dir/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # Keep it small and free of this host's identity (Docker provides hostname, hosts, resolv.conf).
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin \
         "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/archives/partial/* \
         "$dir"/var/cache/debconf/*-old "$dir"/var/lib/dpkg/*-old \
         "$dir"/var/log/*.log "$dir"/var/log/apt/* "$dir"/tmp/* "$dir"/var/tmp/* "$dir"/root/.bash_history
  mkdir -p "$dir/var/lib/apt/lists/partial"
  echo localhost >"$dir/etc/hostname"
  : >"$dir/etc/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
  rm -f "$dir/etc/machine-id" "$dir"/etc/ssh/ssh_host_*
  # Slim like Debian's -slim images (about 45 MB less): no man pages, documentation (copyright
  # files kept) or message translations, now and for packages installed later.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/ecloud-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  find "$dir/usr/share/doc" -xdev -mindepth 1 ! -type d ! -name copyright -delete
  find "$dir/usr/share/doc" -xdev -mindepth 1 -type d -empty -delete
  find "$dir/usr/share/locale" -xdev -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/lintian/* "$dir"/usr/share/linda/*
  pack_rootfs "$dir" "$out"
  remove_tree "$dir"
}

build_debian() {
  local arch=$1 tag="ecloud/debian:$SUITE-$arch" tarball="$CACHE/debian-$SUITE-$arch.r$RECIPE.tar"
  if ! $REBUILD && image_current "$tag" "$arch"; then
    log "debian/$arch: $tag present, skipped"
    return 0
  fi
  if $NO_CACHE || [ ! -s "$tarball" ]; then
    step_begin
    debootstrap_rootfs "$arch" "$tarball"
    step_end "debian/$arch: rootfs cached as $tarball ($(du -h "$tarball" | cut -f1))"
  fi
  step_begin
  import_rootfs "$tarball" "$tag" "$arch" '["/bin/bash"]'
  step_end "debian/$arch: imported $tag"
}

# ---------------------------------------------------------------------------------------------
# busybox (Debian's busybox-static)
# ---------------------------------------------------------------------------------------------
# fetch_deb PKG ARCH: download PKG's .deb for ARCH with a private apt state (no change to this
# host's dpkg architectures or apt lists); prints the path of the .deb.
fetch_deb() {
  local pkg=$1 arch=$2 st="$CACHE/apt-$arch" out="$CACHE/debs/$arch"
  mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/sources.list.d" "$st/preferences.d" "$out"
  : >"$st/status"
  cat >"$st/sources.list" <<EOF
deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main
deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE-updates main
deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $SECURITY_MIRROR $SUITE-security main
EOF
  local opts=(-qq -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
              -o "Dir::Etc::SourceList=$st/sources.list" -o "Dir::Etc::SourceParts=$st/sources.list.d"
              -o "Dir::Etc::Preferences=$st/preferences" -o "Dir::Etc::PreferencesParts=$st/preferences.d"
              -o "Dir::State::Lists=$st/lists" -o "Dir::State::status=$st/status"
              -o "Dir::Cache=$st/cache" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root"
              -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" update >&2
  (cd "$out" && rm -f "${pkg}"_*.deb && apt-get "${opts[@]}" download "$pkg:$arch" >&2)
  ls -1 "$out/${pkg}"_*_"$arch".deb | head -n1
}

busybox_rootfs() {
  local arch=$1 out=$2 dir="$WORK/busybox-$arch" x="$WORK/busybox-$arch-deb" deb
  remove_tree "$dir"; remove_tree "$x"
  deb=$(fetch_deb busybox-static "$arch")
  [ -f "$deb" ] || die "busybox/$arch: could not download busybox-static:$arch"
  log "busybox/$arch: from $(basename "$deb")"
  dpkg-deb -x "$deb" "$x"
  local bb
  bb=$(find "$x" -path '*/bin/busybox' -type f | head -n1)
  [ -n "$bb" ] || die "busybox/$arch: no bin/busybox in $deb"
  mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,root/.ssh,tmp,var/tmp,var/log,var/run,home,dev,proc,sys,run}
  install -m 0755 "$bb" "$dir/bin/busybox"
  # The applet list, from this arch's own binary (run under qemu for a foreign arch).
  local list
  if [ "$arch" = "$HOST_ARCH" ]; then
    list=$("$dir/bin/busybox" --list-full)
  else
    list=$("$(qemu_of "$arch")" "$dir/bin/busybox" --list-full)
  fi
  local n=0 applet
  while read -r applet; do
    [ -n "$applet" ] || continue
    [ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] && continue
    mkdir -p "$dir/$(dirname "$applet")"
    ln -s /bin/busybox "$dir/$applet"
    n=$((n + 1))
  done <<<"$list"
  [ -L "$dir/bin/sh" ] || die "busybox/$arch: no /bin/sh applet"
  chmod 1777 "$dir/tmp" "$dir/var/tmp"
  chmod 0700 "$dir/root" "$dir/root/.ssh"
  cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$dir/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$dir/etc/shadow"
  chmod 0640 "$dir/etc/shadow"
  echo /bin/sh >"$dir/etc/shells"
  printf 'export PATH=%s\nexport PS1='"'"'\\u@\\h:\\w\\$ '"'"'\n' "$PATH_ENV" >"$dir/etc/profile"
  echo localhost >"$dir/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/etc/hosts"
  log "busybox/$arch: $n applet links"
  (cd "$dir" && chown -R 0:0 .)
  pack_rootfs "$dir" "$out"
  remove_tree "$dir"; remove_tree "$x"
}

build_busybox() {
  local arch=$1 tag="ecloud/busybox:latest-$arch" tarball="$CACHE/busybox-$arch.r$RECIPE.tar"
  if ! $REBUILD && image_current "$tag" "$arch"; then
    log "busybox/$arch: $tag present, skipped"
    return 0
  fi
  if $NO_CACHE || [ ! -s "$tarball" ]; then
    step_begin
    busybox_rootfs "$arch" "$tarball"
    step_end "busybox/$arch: rootfs cached as $tarball ($(du -h "$tarball" | cut -f1))"
  fi
  step_begin
  import_rootfs "$tarball" "$tag" "$arch" '["/bin/sh"]'
  step_end "busybox/$arch: imported $tag"
}

# ---------------------------------------------------------------------------------------------
# verification and the registry sample
# ---------------------------------------------------------------------------------------------
verify_image() {
  local tag=$1 arch=$2 want got
  want=$(uname_of "$arch")
  got=$(docker run --rm --pull never --platform "linux/$arch" --network none "$tag" uname -m 2>&1 | tr -d '\r' | tail -n1) \
    || die "verify: docker run $tag failed: $got"
  [ "$got" = "$want" ] || die "verify: $tag: uname -m printed '$got', expected '$want'"
}

push_sample() {
  if ! curl -sf -o /dev/null --max-time 3 "http://$REGISTRY/v2/"; then
    log "registry: http://$REGISTRY/v2/ does not answer; sample not pushed"
    return 0
  fi
  local src=ecloud/busybox:latest-amd64 local_id remote
  docker image inspect "$src" >/dev/null 2>&1 || { log "registry: $src absent; sample not pushed"; return 0; }
  # Up to date when the registry holds the tag with the same config (image id) as the local image.
  local_id=$(docker image inspect -f '{{.Id}}' "$src")
  remote=$(curl -sf --max-time 5 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
             "http://$REGISTRY/v2/samples/busybox/manifests/1.0" 2>/dev/null | jq -r '.config.digest // empty' 2>/dev/null || true)
  if [ "$remote" = "$local_id" ]; then
    log "registry: $SAMPLE_REF present, skipped"
    return 0
  fi
  step_begin
  docker tag "$src" "$SAMPLE_REF"
  docker push -q "$SAMPLE_REF" >/dev/null
  docker rmi "$SAMPLE_REF" >/dev/null
  step_end "registry: pushed $src as $SAMPLE_REF"
}

# ---------------------------------------------------------------------------------------------
T0=$(now_s)
# tarballs of an older recipe are not used any more
find "$CACHE" -maxdepth 1 -name '*.r[0-9]*.tar' ! -name "*.r$RECIPE.tar" -delete
for arch in "${ARCHES[@]}"; do
  [ "$ONLY" = busybox ] || build_debian "$arch"
  [ "$ONLY" = debian ] || build_busybox "$arch"
done
if $VERIFY; then
  step_begin
  for arch in "${ARCHES[@]}"; do
    [ "$ONLY" = busybox ] || verify_image "ecloud/debian:$SUITE-$arch" "$arch"
    [ "$ONLY" = debian ] || verify_image "ecloud/busybox:latest-$arch" "$arch"
  done
  step_end "verify: uname -m matches for ${ARCHES[*]}"
fi
if $PUSH && [ "$ONLY" != debian ] && [[ " ${ARCHES[*]} " == *" amd64 "* ]]; then
  push_sample
fi
rmdir "$WORK" 2>/dev/null || true
log "done in $(elapsed "$T0") s"
