#!/bin/bash
# hub-claude-code: the entrypoint of hub/claude-code. Runs one Hub session with Claude Code:
#   1. refuses to start without ANTHROPIC_API_KEY (exit 78, before anything slow);
#   2. works in /workspace, which Hub prepared (a checkout of the repository plus its dependencies' changes);
#   3. gives Claude Code the preamble, the prompt and the list of inputs under /hub/inputs/;
#   4. runs `claude -p` unattended in /workspace (resuming the conversation of the session this one
#      continues, HUB_CONTINUE_FROM, when that session's output holds it) and writes its final answer
#      to /hub/output/result.md, its JSON result to /hub/output/result.json, what it spent (and the
#      rate limit it hit) to /hub/output/usage.json and its conversation to /hub/output/conversation/.
# Exit code 0 only when Claude Code succeeded. The last line printed on failure says why: Hub puts
# it in the session's status reason. Nothing here prints a secret's value.
set -uo pipefail

readonly OUTPUT_DIR=/hub/output
readonly RESULT_HELPER=/usr/local/lib/hub-claude-code/result.js
readonly TAG=hub-claude-code
# A conversation (Claude Code's transcript) larger than this is neither restored nor kept.
readonly MAX_TRANSCRIPT_BYTES=$((128 * 1024 * 1024))
readonly SESSION_ID_PATTERN='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

say() { printf '%s: %s\n' "$TAG" "$*"; }
fail() {
  local code=$1
  shift
  printf '%s: %s\n' "$TAG" "$*" >&2
  exit "$code"
}
# A URL as it may be shown: without user:password@.
shown_url() { printf '%s' "$1" | sed -E 's#^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@#\1#'; }
last_line_of() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-200; }

# 1. Configuration, checked before anything slow.
if [ -z "${ANTHROPIC_API_KEY:-}" ]; then
  fail 78 "ANTHROPIC_API_KEY is not set: configure it on the runner (HUB_SECRET_ANTHROPIC_API_KEY or HUB_SECRETS_FILE)"
fi
# The prompt is a file the runner mounts (any size the API accepts); HUB_PROMPT holds short ones too.
PROMPT_SOURCE="${HUB_PROMPT_FILE:-/hub/prompt}"
if ! [ -s "$PROMPT_SOURCE" ] && [ -z "${HUB_PROMPT:-}" ]; then
  fail 78 "no prompt: $PROMPT_SOURCE is missing or empty and HUB_PROMPT is not set"
fi

# A writable home for Claude Code's and git's settings, whatever uid the runner chose.
if [ -z "${HOME:-}" ] || [ "$HOME" = / ] || ! [ -w "$HOME" ]; then
  export HOME=/tmp/hub-home
  mkdir -p "$HOME"
fi
WORKSPACE=/workspace
if ! [ -w "$WORKSPACE" ]; then
  WORKSPACE=/tmp/workspace
  say "/workspace is not writable for uid $(id -u); working in $WORKSPACE"
  mkdir -p "$WORKSPACE"
fi
if ! [ -w "$OUTPUT_DIR" ]; then
  fail 73 "$OUTPUT_DIR is not writable for uid $(id -u): the runner must mount the session's output directory there"
fi

# The image is immutable and unattended: no self-update, no telemetry, no optional traffic. An image
# built FROM this one may set these differently.
export DISABLE_AUTOUPDATER="${DISABLE_AUTOUPDATER-1}"
export DISABLE_TELEMETRY="${DISABLE_TELEMETRY-1}"
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="${CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC-1}"
export SHELL="${SHELL:-/bin/bash}"
export GIT_TERMINAL_PROMPT=0 # nobody can type a password: fail instead of waiting

CLAUDE_VERSION=$(claude --version 2>&1 | head -n 1) || fail 70 "the claude CLI does not run in this image: $CLAUDE_VERSION"
say "Claude Code $CLAUDE_VERSION, session ${HUB_SESSION_ID:-?} (type ${HUB_SESSION_TYPE:-?}, attempt ${HUB_ATTEMPT:-1})"

# Hub's containers have loopback only (network none). Sessions allowed destinations (HUB_EGRESS on
# the runner; by default api.anthropic.com for this image) reach them through Hub's egress proxy, set
# in HTTPS_PROXY. Without either, Claude Code cannot reach the Anthropic API: say so, and do not let
# it retry for minutes.
NO_NETWORK=
VIA_PROXY=
if [ -n "${HTTPS_PROXY:-${https_proxy:-}}" ]; then
  VIA_PROXY=1
  say "network: through Hub's egress proxy ($(shown_url "${HTTPS_PROXY:-${https_proxy:-}}"))"
elif [ -d /sys/class/net ] && [ -z "$(ls /sys/class/net 2>/dev/null | grep -vx lo)" ]; then
  NO_NETWORK=1
  export CLAUDE_CODE_MAX_RETRIES="${CLAUDE_CODE_MAX_RETRIES-0}"
  say "warning: this container may reach no destination (only lo, no egress proxy): allow api.anthropic.com for this image with HUB_EGRESS on the runner"
fi

# The workspace's git settings (the runner fetched the repository with its own credentials: none are here).
git config --global safe.directory '*' # a mounted repository belongs to another uid
git config --global advice.detachedHead false
git config --global init.defaultBranch main
git config --global user.name >/dev/null || git config --global user.name "Claude Code (Hub)"
git config --global user.email >/dev/null || git config --global user.email "claude-code@hub.invalid"

# 2. The workspace: Hub prepared /workspace before the container started (a checkout of the
# repository with the changes of the sessions this one depends on merged in); nothing is cloned here.
cd "$WORKSPACE" || fail 70 "cannot enter $WORKSPACE"
if git rev-parse --git-dir >/dev/null 2>&1; then
  at=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo HEAD)
  say "workspace prepared by Hub${HUB_REPOSITORY:+ from $(shown_url "$HUB_REPOSITORY")} at $at ($(git rev-parse --short HEAD 2>/dev/null || echo 'no commits'))"
  say "$WORKSPACE: $(ls -A "$WORKSPACE" | grep -vx .git | head -n 30 | tr '\n' ' ')"
else
  say "no repository in $WORKSPACE: Claude Code starts in an empty directory"
fi

# 3. The prompt: preamble, prompt, inputs, and where the output goes.
PROMPT_FILE=/tmp/hub-prompt.md
INPUT_SUMMARY=
{
  if [ -n "${HUB_PROMPT_PREAMBLE:-}" ]; then
    printf '%s\n\n' "$HUB_PROMPT_PREAMBLE"
  fi
  if [ -s "$PROMPT_SOURCE" ]; then cat "$PROMPT_SOURCE"; printf '\n'; else printf '%s\n' "$HUB_PROMPT"; fi
  # What the session was told besides its prompt (claude-hub's context), given apart by the runner.
  if [ -n "${HUB_CONTEXT_FILE:-}" ] && [ -s "$HUB_CONTEXT_FILE" ]; then
    printf '\n## Context\n\n'; cat "$HUB_CONTEXT_FILE"; printf '\n'
  fi
  if [ -n "${HUB_INPUTS:-}" ]; then
    printf '\n## Inputs\n\nThe outputs of the sessions this one depends on, read-only:\n'
    for dir in $HUB_INPUTS; do
      printf '\n- `%s` (%s/):\n' "${dir##*/}" "$dir"
      listed=0
      while IFS= read -r file; do
        [ -n "$file" ] || continue
        printf '  - %s (%s bytes)\n' "$file" "$(stat -c %s "$file" 2>/dev/null || echo '?')"
        listed=$((listed + 1))
      done < <(find "$dir" -type f 2>/dev/null | sort | head -n 200)
      [ "$listed" -gt 0 ] || printf '  - (no files)\n'
      INPUT_SUMMARY="$INPUT_SUMMARY ${dir##*/} ($listed file$([ "$listed" = 1 ] || echo s))"
    done
  fi
  printf '\n## Session\n\nYou work in %s' "$WORKSPACE"
  [ -n "${HUB_REPOSITORY:-}" ] && printf ', a clone of %s%s' "$(shown_url "$HUB_REPOSITORY")" "${HUB_BRANCH:+ on branch $HUB_BRANCH}"
  printf '. Files you write to %s/ are kept as this session'"'"'s output; your final answer is saved as %s/result.md unless you write that file yourself.\n' "$OUTPUT_DIR" "$OUTPUT_DIR"
} >"$PROMPT_FILE"
say "prompt: $(wc -c <"$PROMPT_FILE" | tr -d ' ') bytes${HUB_PROMPT_PREAMBLE:+, with the $HUB_SESSION_TYPE preamble}; inputs:${INPUT_SUMMARY:- none}"

# Where Claude Code keeps this workspace's conversations: <config dir>/projects/<its cwd with every
# character but [a-zA-Z0-9] replaced by ->/<session id>.jsonl (what the pinned CLI does; a longer
# name than 200 characters gets a hash suffix, which is not computed here).
CLAUDE_DIR="${CLAUDE_CONFIG_DIR:-$HOME/.claude}"
PROJECT_NAME=$(pwd -P | LC_ALL=C sed 's/[^a-zA-Z0-9]/-/g')
PROJECT_DIR="$CLAUDE_DIR/projects/$PROJECT_NAME"
[ "${#PROJECT_NAME}" -le 200 ] || PROJECT_DIR=

# A follow-up (POST /sessions/:id/continue): the earlier session's output is at HUB_CONTINUE_FROM,
# read-only; its conversation/ holds Claude's transcript and its id. Restored where Claude Code looks
# for it, it is resumed with the new prompt (the workspace already holds that session's changes).
RESUME_ID=
USAGE_BASELINE=
# restore_conversation <earlier output dir>: sets RESUME_ID, or says why it cannot (and returns 1).
restore_conversation() {
  local from=$1/conversation name=${1##*/} id= transcript size
  if ! [ -f "$from/session-id" ] || [ -L "$from/session-id" ] || [ -L "$from" ]; then
    say "no conversation to resume in $name (no conversation/session-id)"
    return 1
  fi
  size=$(stat -c %s "$from/session-id" 2>/dev/null || echo 0)
  [ "$size" -le 64 ] && id=$(head -c 64 "$from/session-id")
  if ! [[ "$id" =~ $SESSION_ID_PATTERN ]]; then
    say "no conversation to resume in $name (conversation/session-id does not hold a session id)"
    return 1
  fi
  transcript="$from/$id.jsonl"
  if ! [ -f "$transcript" ] || [ -L "$transcript" ]; then
    say "no conversation to resume in $name (conversation/$id.jsonl is missing or not a regular file)"
    return 1
  fi
  size=$(stat -c %s "$transcript" 2>/dev/null || echo 0)
  if [ "$size" -eq 0 ] || [ "$size" -gt "$MAX_TRANSCRIPT_BYTES" ]; then
    say "no conversation to resume in $name (conversation/$id.jsonl is empty or larger than $MAX_TRANSCRIPT_BYTES bytes)"
    return 1
  fi
  if [ -z "$PROJECT_DIR" ]; then
    say "cannot resume the conversation of $name in $(pwd -P) (a path this long is not supported)"
    return 1
  fi
  mkdir -p "$PROJECT_DIR" && chmod 700 "$CLAUDE_DIR" "$CLAUDE_DIR/projects" "$PROJECT_DIR" 2>/dev/null
  # At most the limit and one byte: a file that grew since stat is refused, not copied whole.
  if ! head -c $((MAX_TRANSCRIPT_BYTES + 1)) "$transcript" >"$PROJECT_DIR/$id.jsonl" 2>/dev/null \
    || [ "$(stat -c %s "$PROJECT_DIR/$id.jsonl")" -gt "$MAX_TRANSCRIPT_BYTES" ]; then
    rm -f "$PROJECT_DIR/$id.jsonl"
    say "no conversation to resume in $name (conversation/$id.jsonl could not be copied)"
    return 1
  fi
  chmod 600 "$PROJECT_DIR/$id.jsonl"
  # Claude Code's cost and token totals go on from the last ones the transcript saved: this run spent
  # what they grow by (result.js subtracts these).
  USAGE_BASELINE=/tmp/hub-claude-usage-baseline.jsonl
  grep '^{"type":"cost-state"' "$PROJECT_DIR/$id.jsonl" 2>/dev/null | tail -n 1 >"$USAGE_BASELINE"
  RESUME_ID=$id
  say "resuming the conversation $id of $name ($size bytes)"
}
if [ -n "${HUB_CONTINUE_FROM:-}" ] && ! restore_conversation "$HUB_CONTINUE_FROM"; then
  say "running a new conversation instead (the workspace holds the earlier session's changes)"
fi

# 4. Claude Code, unattended: nobody is there to answer a permission prompt, and the container is
# the sandbox (uid 1000, no capabilities, its own filesystem).
CLAUDE_OUT=/tmp/hub-claude.json
CLAUDE_ERR=/tmp/hub-claude.err
STOPPED_BY=
CLAUDE_EXIT=0
# run_claude [claude options…]: runs it on the prompt, sets CLAUDE_EXIT (and STOPPED_BY on a signal).
# Its stderr is shown once it ended (with --output-format json it prints little there).
run_claude() {
  claude -p "$@" --output-format json --dangerously-skip-permissions <"$PROMPT_FILE" >"$CLAUDE_OUT" 2>"$CLAUDE_ERR" &
  CLAUDE_PID=$!
  trap 'STOPPED_BY=SIGTERM; kill -TERM "$CLAUDE_PID" 2>/dev/null' TERM
  trap 'STOPPED_BY=SIGINT; kill -INT "$CLAUDE_PID" 2>/dev/null' INT
  CLAUDE_EXIT=0
  wait "$CLAUDE_PID" || CLAUDE_EXIT=$?
  # A trapped signal interrupts `wait`: wait again for Claude Code to finish.
  while kill -0 "$CLAUDE_PID" 2>/dev/null; do
    wait "$CLAUDE_PID" && CLAUDE_EXIT=0 || CLAUDE_EXIT=$?
  done
  trap - TERM INT
  [ -s "$CLAUDE_ERR" ] && cat "$CLAUDE_ERR" >&2
  return 0
}
if [ -n "$RESUME_ID" ]; then
  say "running claude -p --resume $RESUME_ID in $WORKSPACE"
  run_claude --resume "$RESUME_ID"
  # The CLI did not take the transcript ("No conversation found with session ID: …"): start afresh.
  if [ -z "$STOPPED_BY" ] && [ "$CLAUDE_EXIT" -ne 0 ] && ! [ -s "$CLAUDE_OUT" ] && grep -q 'No conversation found' "$CLAUDE_ERR" 2>/dev/null; then
    say "Claude Code could not resume the conversation $RESUME_ID: running a new conversation"
    RESUME_ID=
    USAGE_BASELINE=
    run_claude
  fi
else
  say "running claude -p in $WORKSPACE"
  run_claude
fi

HUB_CC_NO_NETWORK="$NO_NETWORK" HUB_CC_VIA_PROXY="$VIA_PROXY" HUB_CC_STOPPED_BY="$STOPPED_BY" \
  HUB_CC_PROJECT_DIR="$PROJECT_DIR" HUB_CC_RESUMED_ID="$RESUME_ID" HUB_CC_USAGE_BASELINE="$USAGE_BASELINE" \
  HUB_CC_MAX_TRANSCRIPT_BYTES="$MAX_TRANSCRIPT_BYTES" \
  node "$RESULT_HELPER" "$CLAUDE_OUT" "$CLAUDE_EXIT" "$OUTPUT_DIR"
