# Shared helpers for the project's shell scripts. Source it; do not run it.

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "$*"; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (run as root, or install sudo)"; fi
}

# Installs Debian/Ubuntu packages; a failing `apt-get update` (one unreachable mirror) is
# reported but does not stop the install from trying the lists it has.
apt_install() {
  command -v apt-get >/dev/null || die "cannot install $* automatically: apt-get is not available; install it yourself"
  say "installing $* from the OS packages..."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || say "apt-get update reported problems; trying the install anyway"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
