# Sourced by the offline image builds (images/test-agent/build.sh, images/egress-bridge/build.sh,
# images/claude-code/build-offline.sh): what they take from this machine (no base image can be pulled),
# how a program is copied into a root filesystem with what it needs to run there, and the few Docker
# steps they share. The caller defines log and die (prints, exits 1).

# The Docker engine answers (docker info), or the build stops saying so.
ensure_docker() {
  docker info >/dev/null 2>&1 || die "the Docker engine is not reachable (docker info failed); start dockerd first"
}

# image_label IMAGE LABEL: the label's value on the image; empty when the image or the label is missing.
image_label() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }

# image_id IMAGE: the image's id; empty when it is missing.
image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }

# drop_replaced IMAGE PREVIOUS_ID: the build IMAGE replaced is untagged now; removes it unless a container still uses it.
drop_replaced() {
  if [[ -n "$2" && "$2" != "$(image_id "$1")" ]]; then
    docker image rm "$2" >/dev/null 2>&1 || true
  fi
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi; }

# git, /bin/busybox and ldd, installed with apt-get (as root or with sudo) when missing.
install_host_tools() {
  local missing=()
  command -v git >/dev/null 2>&1 || missing+=(git)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  command -v ldd >/dev/null 2>&1 || missing+=(libc-bin)
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]} (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } \
    || die "cannot install ${missing[*]}: install them yourself (apt-get install ${missing[*]})"
}

is_elf() { [[ -f "$1" && ! -L "$1" ]] && [[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]; }

# Copies an ELF file's shared libraries (and its loader) to the same paths under the root.
copy_libraries() {
  local root=$1 file=$2 listing lib
  listing=$(ldd "$file" 2>&1) || [[ "$listing" == *"not a dynamic executable"* ]] || die "ldd $file failed: $listing"
  if grep -q 'not found' <<<"$listing"; then
    die "${file#"$root"} needs libraries this machine does not have: $(grep 'not found' <<<"$listing" | awk '{print $1}' | tr '\n' ' ')"
  fi
  while read -r lib; do
    [[ -e "$root$lib" ]] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$listing")
}

# copy_git ROOT BIN [--local]: this machine's git at BIN (a path in ROOT, e.g. /usr/bin/git), with its
# helpers (`git --exec-path`: the dashed builtins, links to git; shell-script commands; separate
# programs), its templates (/usr/share/git-core) and the shared libraries of all of them. BIN is a hard
# link to the helpers' copy of git when the two are the same file, so an archive holds git once.
# --local leaves out the separate programs (git-remote-http(s), http-fetch/push, daemon, http-backend,
# imap-send, shell, scalar: ~2 MB each, and libcurl with its libraries): what local repositories need
# stays, every builtin (init, commit, bundle, fetch from a path or bundle, merge, …), the shell-script
# commands and the sh-i18n--envsubst their messages go through (a merge of several branches, octopus,
# is one).
copy_git() {
  local root=$1 bin=$2 mode=${3:-all} git exec_path file
  git=$(command -v git) || die "git is not installed"
  exec_path=$(git --exec-path)
  mkdir -p "$root$exec_path" "$root$(dirname "$bin")" "$root/usr/share"
  cp -a "$exec_path/." "$root$exec_path/"
  # Some systems link the helpers' git to the installed one; the root needs the file itself.
  [[ -L "$root$exec_path/git" ]] && cp --remove-destination "$git" "$root$exec_path/git"
  if [[ "$mode" == --local ]]; then
    while IFS= read -r -d '' file; do
      case "${file##*/}" in git | git-sh-i18n--envsubst) continue ;; esac
      if is_elf "$file"; then rm -f "$file"; fi
    done < <(find "$root$exec_path" -type f -print0)
    # Links to what was left out (git-remote-https → git-remote-http).
    find "$root$exec_path" -xtype l -delete
  fi
  if cmp -s "$git" "$root$exec_path/git"; then
    ln -f "$root$exec_path/git" "$root$bin"
  else
    cp -L "$git" "$root$bin"
  fi
  [[ -d /usr/share/git-core ]] && cp -a /usr/share/git-core "$root/usr/share/"
  copy_libraries "$root" "$root$bin"
  while IFS= read -r -d '' file; do
    if is_elf "$file"; then copy_libraries "$root" "$file"; fi
  done < <(find "$root$exec_path" -type f -print0)
}
