#!/usr/bin/env bash
# package-test.sh [BUILD_DIR]: the .deb, end to end, on this machine (Debian 12, root). From an
# already built release tree (default build-release; no build here): cpack makes the .deb,
# apt-get installs it (resolving its Depends), then from the installed files only (/usr/bin,
# run from an empty directory) `tracejail --version` must say the CMake version, `tracejail
# selftest` must use the installed escape suite and pass, and the man pages, completions and
# schemas must be where the package put them. Then the package (and any package apt-get pulled
# in for it) is purged, so the machine is as before. scripts/test.sh runs it after the release
# tests. Not root: prints why and does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build-release}" && pwd)
say() { echo "package-test: $*"; }
die() {
  echo "package-test: FAILED: $*" >&2
  exit 1
}

if [[ $(id -u) -ne 0 ]]; then
  say "skipped: installing a package needs root"
  exit 0
fi
if dpkg-query -W -f='${Status}' tracejail 2>/dev/null | grep -q "install ok installed"; then
  die "a tracejail package is installed already; this test installs and removes its own" \
    "(remove it first: apt-get purge tracejail)"
fi
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
[[ -n $version ]] || die "no CPACK_PACKAGE_VERSION in $build/CPackConfig.cmake (configure $build first)"

work=$(mktemp -d /tmp/tracejail-package-test-XXXXXX)
chmod 755 "$work" # apt's _apt user reads the .deb from here
before="$work/packages-before"
installed_packages() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" {print $2}' | LC_ALL=C sort
}
purge() {
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 "$@" \
    >"$work/purge.log" 2>&1 || echo "package-test: apt-get purge $*: $(tail -5 "$work/purge.log")" >&2
}
# Whatever happens: the package purged (none was installed when this started), and with it
# what apt-get pulled in for it (its Depends that were missing), and only that.
cleanup() {
  if dpkg -s tracejail >/dev/null 2>&1; then purge tracejail; fi
  if [[ -s $before ]]; then
    local added
    added=$(installed_packages | LC_ALL=C comm -13 "$before" -)
    if [[ -n $added ]]; then
      say "purging what the package pulled in: ${added//$'\n'/ }"
      # shellcheck disable=SC2086
      purge $added
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
# 1. The .deb from the release build (cpack runs its install rules under /usr; no build).
(cd "$build" && cpack -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) ||
  die "cpack failed: $(tail -20 "$work/cpack.log")"
deb="$work/cpack/tracejail_${version}_amd64.deb"
[[ -f $deb ]] || die "cpack made no $deb: $(ls "$work/cpack")"
say "cpack: $((SECONDS - start)) s"
say "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB; $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -c "$deb" | awk '{print $6}' >"$work/contents"
for path in ./usr/bin/tracejail ./usr/libexec/tracejail/escapes/outside_process \
  ./usr/share/man/man1/tracejail.1.gz ./usr/share/man/man5/tracejail-policy.5.gz \
  ./usr/share/man/man5/tracejail-events.5.gz ./usr/share/bash-completion/completions/tracejail \
  ./usr/share/zsh/vendor-completions/_tracejail ./usr/share/tracejail/schema/events.schema.json \
  ./usr/share/tracejail/schema/result.schema.json ./usr/share/tracejail/schema/policy.schema.json; do
  grep -qx "$path" "$work/contents" || die "the .deb lacks $path"
done

# 2. Install it the way a user would: apt-get resolves the Depends.
installed_packages >"$before"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o DPkg::Lock::Timeout=120 "$deb" >"$work/apt.log" 2>&1 ||
  die "apt-get install $deb failed: $(tail -20 "$work/apt.log")"
dpkg-query -W -f='${Status} ${Version}\n' tracejail | grep -qx "install ok installed $version" ||
  die "dpkg does not list tracejail $version as installed"

# 3. The installed files, from an empty directory outside the build tree and the checkout, so
# that nothing can be found relative to the current directory.
cd "$work"
mkdir cwd && cd cwd
tj=/usr/bin/tracejail
got=$("$tj" --version)
[[ $got == "tracejail $version" ]] || die "$tj --version says '$got', not 'tracejail $version'"
# Two techniques at standard: one needs the secret, one the helper program outside_process.
"$tj" selftest --level standard --only path-symlink --only outside-proc >"$work/selftest.out" 2>&1 ||
  die "installed selftest failed: $(cat "$work/selftest.out")"
head -1 "$work/selftest.out" | grep -q "from /usr/libexec/tracejail/escapes (installed)$" ||
  die "installed selftest did not use /usr/libexec/tracejail/escapes: $(head -1 "$work/selftest.out")"
grep -q "selftest passed" "$work/selftest.out" || die "selftest: $(cat "$work/selftest.out")"
say "$(head -1 "$work/selftest.out")"
if command -v man >/dev/null; then
  for page in "1 tracejail" "5 tracejail-policy" "5 tracejail-events"; do
    # shellcheck disable=SC2086
    path=$(man -w $page) || die "man -w $page finds nothing"
    [[ $path == /usr/share/man/* ]] || die "man -w $page: $path is not the package's"
  done
  say "man pages: $(man -w tracejail)"
else
  for path in /usr/share/man/man1/tracejail.1.gz /usr/share/man/man5/tracejail-{policy,events}.5.gz; do
    [[ -f $path ]] || die "$path is not installed"
  done
fi
for path in /usr/share/bash-completion/completions/tracejail /usr/share/zsh/vendor-completions/_tracejail; do
  [[ -f $path ]] || die "$path is not installed"
done
for schema in /usr/share/tracejail/schema/{policy,events,result}.schema.json; do
  python3 -m json.tool "$schema" >/dev/null || die "$schema is not JSON"
done
cd "$root"

# 4. Remove it: nothing of it may stay.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 tracejail \
  >"$work/apt.log" 2>&1 || die "apt-get purge tracejail failed: $(tail -20 "$work/apt.log")"
for path in /usr/bin/tracejail /usr/libexec/tracejail /usr/share/tracejail /usr/share/man/man1/tracejail.1.gz; do
  [[ ! -e $path ]] || die "$path is still there after apt-get purge tracejail"
done
say "ok: built, installed, ran from /usr and removed tracejail $version in $((SECONDS - start)) s"
