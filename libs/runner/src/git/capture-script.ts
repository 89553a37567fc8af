/** Where the helper sees the workspace and writes what it captured. */
export const CAPTURE_WORKSPACE_DIR = '/workspace';
export const CAPTURE_OUT_DIR = '/hub/out';

/** Exit codes of the capture script, and what each means. */
export const CAPTURE_EXIT_REASONS: Readonly<Record<number, string>> = {
  10: 'the workspace is no longer a git repository',
  11: 'the workspace has lost its base commit or its HEAD',
  12: 'git add failed',
  13: 'committing what was left uncommitted failed',
  14: 'bundling the commits failed',
  15: 'listing the changed files failed',
  153: 'a file went past the size limit',
};

/**
 * The fixed script the capture helper runs (POSIX sh; busybox or any other), on the agent's
 * workspace, inside a container with no network, as the agent's uid. Everything it is given comes in
 * the environment (never spliced into the script): HUB_BASE, HUB_AUTHOR_NAME, HUB_AUTHOR_EMAIL,
 * HUB_COMMIT_MESSAGE, HUB_DIFF_CAP, HUB_NUMSTAT_CAP.
 *
 * The workspace's .git is the agent's, so even in here git is kept from running what it names: no
 * system or global config, no hooks, no fsmonitor, no external diff or textconv, no signing, no
 * background gc, and every filter named in its config turned off (clean, smudge and process emptied,
 * none required) through GIT_CONFIG_COUNT, which outranks the repository's config. The work tree is
 * /workspace whatever core.worktree says. Links are committed as links (git add never follows them).
 *
 * It commits whatever is left uncommitted (one commit, authored as the session), then writes to
 * /hub/out: `head` (HEAD's commit), `changes.bundle` (base..HEAD, when HEAD has commits the base has
 * not), `numstat` (NUL-separated, cut at HUB_NUMSTAT_CAP bytes), `shortstat`, and `changes.diff`
 * (the unified diff, cut at HUB_DIFF_CAP + 1 bytes, so the host can tell it was cut).
 */
export const CAPTURE_SCRIPT = String.raw`
set -u
fail() { code=$1; shift; echo "capture: $*" >&2; exit "$code"; }
export HOME=/tmp XDG_CONFIG_HOME=/tmp/.config LC_ALL=C \
  GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_ATTR_NOSYSTEM=1 \
  GIT_TERMINAL_PROMPT=0 GIT_PAGER=cat GIT_EDITOR=false GIT_OPTIONAL_LOCKS=0 \
  GIT_DIR=/workspace/.git GIT_WORK_TREE=/workspace
unset GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_CONFIG_PARAMETERS
out=/hub/out
cd /workspace || fail 10 "no /workspace"
[ -e .git ] || fail 10 ".git is gone"

GIT_CONFIG_COUNT=0
export GIT_CONFIG_COUNT
setting() {
  eval "export GIT_CONFIG_KEY_$GIT_CONFIG_COUNT=\"\$1\" GIT_CONFIG_VALUE_$GIT_CONFIG_COUNT=\"\$2\""
  GIT_CONFIG_COUNT=$((GIT_CONFIG_COUNT + 1))
}
git config --name-only --get-regexp '^filter\.' 2>/dev/null | sed 's/\.[^.]*$//' | sort -u | head -n 200 >/tmp/filters
while IFS= read -r filter; do
  setting "$filter.clean" ""
  setting "$filter.smudge" ""
  setting "$filter.process" ""
  setting "$filter.required" "false"
done </tmp/filters

g() {
  git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.untrackedCache=false \
    -c core.symlinks=true -c core.bare=false -c core.sparseCheckout=false -c core.splitIndex=false \
    -c core.autocrlf=false -c core.safecrlf=false -c core.quotePath=false \
    -c commit.gpgSign=false -c gc.auto=0 -c maintenance.auto=false -c submodule.recurse=false \
    -c diff.noprefix=false -c diff.mnemonicPrefix=false -c diff.relative=false \
    -c diff.orderFile=/dev/null -c diff.context=3 -c color.ui=false -c diff.renames=false \
    "$@"
}

g cat-file -e "$HUB_BASE^{commit}" 2>/dev/null || fail 11 "base commit $HUB_BASE is not in the workspace"
g add --all -- . || fail 12 "git add failed"
if ! g diff --cached --quiet --no-ext-diff --no-textconv; then
  GIT_AUTHOR_NAME="$HUB_AUTHOR_NAME" GIT_AUTHOR_EMAIL="$HUB_AUTHOR_EMAIL" \
  GIT_COMMITTER_NAME="$HUB_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$HUB_AUTHOR_EMAIL" \
    g commit --quiet --no-verify --no-gpg-sign -m "$HUB_COMMIT_MESSAGE" || fail 13 "git commit failed"
fi
head=$(g rev-parse --verify --quiet 'HEAD^{commit}') || fail 11 "HEAD names no commit"
echo "$head" >"$out/head"

if [ "$head" != "$HUB_BASE" ] && [ "$(g rev-list --count "$HUB_BASE..$head")" != 0 ]; then
  g bundle create --quiet "$out/changes.bundle" "$HUB_BASE..HEAD" || fail 14 "git bundle create failed"
fi
g diff --shortstat --no-renames --no-ext-diff --no-textconv "$HUB_BASE" "$head" >"$out/shortstat" || fail 15 "git diff --shortstat failed"
g diff --numstat -z --no-renames --no-ext-diff --no-textconv "$HUB_BASE" "$head" | head -c "$HUB_NUMSTAT_CAP" >"$out/numstat"
g diff --no-renames --no-ext-diff --no-textconv --src-prefix=a/ --dst-prefix=b/ "$HUB_BASE" "$head" |
  head -c "$((HUB_DIFF_CAP + 1))" >"$out/changes.diff"
exit 0
`;
