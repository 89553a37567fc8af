#!/usr/bin/env node
// Turns what `claude -p --output-format json` printed into the session's output and exit code:
//   <output>/result.json  Claude Code's JSON result, as it gave it
//   <output>/result.md    its final answer (the JSON's `result` text), unless Claude wrote that file
//                         itself during the run (Hub's preambles ask it to): then its file stays
//   <output>/usage.json   what this run spent (tokens by kind, cost in dollars) and, when the API
//                         refused it for a rate or usage limit, `rateLimit` (Hub's agent contract:
//                         AgentUsageReportSchema), also when the run failed
//   <output>/conversation/<session id>.jsonl and conversation/session-id: Claude's transcript, which
//                         a session that continues this one resumes (HUB_CONTINUE_FROM)
// and prints one last line saying how it went (Hub puts a failed session's last log line in its
// status reason). Success means: claude exited 0, and its result is not an error.
// Usage: node result.js <claude stdout file> <claude exit code> <output dir>
// From the entrypoint's environment: HUB_CC_STOPPED_BY, HUB_CC_NO_NETWORK, HUB_CC_VIA_PROXY,
// HUB_CC_PROJECT_DIR (where Claude Code keeps this workspace's transcripts), HUB_CC_RESUMED_ID (the
// conversation resumed), HUB_CC_USAGE_BASELINE (a file with the resumed transcript's last saved
// totals), HUB_CC_MAX_TRANSCRIPT_BYTES.
'use strict';
const { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const TAG = 'hub-claude-code';
const MAX_LINE = 280; // the runner keeps 300 characters of the last line
const MAX_RATE_LIMIT_MESSAGE = 300;
const SESSION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function main() {
  const [stdoutFile, exitArg, outputDir] = process.argv.slice(2);
  const claudeExit = Number.parseInt(exitArg, 10) || 0;
  const stoppedBy = process.env.HUB_CC_STOPPED_BY || '';
  const noNetwork = process.env.HUB_CC_NO_NETWORK === '1';
  const viaProxy = process.env.HUB_CC_VIA_PROXY === '1';
  let raw = '';
  try {
    raw = readFileSync(stdoutFile, 'utf8');
  } catch {
    // no output at all
  }
  const result = parseResult(raw);

  let keptAnswer = false;
  if (result) {
    writeFileSync(join(outputDir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    // Hub's preambles ask Claude to write result.md itself; a file it wrote is its deliberate
    // answer and stays (its final message is still in result.json).
    keptAnswer = nonEmptyFile(join(outputDir, 'result.md'));
    if (!keptAnswer) {
      writeFileSync(join(outputDir, 'result.md'), typeof result.result === 'string' ? ensureNewline(result.result) : '');
    }
  } else if (raw.trim()) {
    writeFileSync(join(outputDir, 'claude-output.txt'), raw);
  }

  const succeeded = !stoppedBy && result !== null && claudeExit === 0 && result.is_error === false && result.subtype === 'success';
  const rateLimit = succeeded || stoppedBy ? null : rateLimitOf(result, raw, new Date());
  const report = usageOf(result, readBaseline(process.env.HUB_CC_USAGE_BASELINE));
  if (result || rateLimit) {
    if (rateLimit) report.rateLimit = { ...(rateLimit.resetAt ? { resetAt: rateLimit.resetAt } : {}), ...(rateLimit.message ? { message: rateLimit.message } : {}) };
    writeFileSync(join(outputDir, 'usage.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
  keepConversation(outputDir, result);

  if (stoppedBy) {
    return finish(128 + (stoppedBy === 'SIGINT' ? 2 : 15), `stopped by ${stoppedBy} (Claude Code exited ${claudeExit})`);
  }
  if (rateLimit) {
    const resets = rateLimit.resetAt ? `resets at ${rateLimit.resetAt}` : 'it did not say when the limit resets';
    return finish(claudeExit || 1, `rate limited by the Anthropic API (${rateLimit.kind}); ${resets}: ${clip(rateLimit.message ?? 'no message', 160)}`);
  }
  if (!result) {
    const hint = raw.trim() ? `; what it printed is in claude-output.txt` : '';
    return finish(claudeExit || 1, `Claude Code exited ${claudeExit} without a JSON result${hint}${networkHint(noNetwork, viaProxy)}`);
  }
  if (succeeded) {
    const answer = keptAnswer ? `${join(outputDir, 'result.md')} (written by Claude)` : join(outputDir, 'result.md');
    return finish(0, `Claude Code completed: ${summary(result, report)}; answer in ${answer}`);
  }
  const kind = [result.subtype !== 'success' && result.subtype, result.terminal_reason, result.api_error]
    .filter((part) => typeof part === 'string' && part)
    .join(', ');
  const said = clip(firstLine(messageOf(result)), 160) || 'no message';
  return finish(claudeExit || 1, `Claude Code failed (exit ${claudeExit}${kind ? `, ${kind}` : ''}): ${said}${networkHint(noNetwork, viaProxy)}`);
}

/** The JSON result: the whole output, or else its last line that is a result object. */
function parseResult(raw) {
  const candidates = [raw.trim(), ...raw.trim().split('\n').reverse()];
  for (const text of candidates) {
    if (!text.startsWith('{')) continue;
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // not this one
    }
  }
  return null;
}

/** What the result says went wrong: its `result` text, or its first error. */
function messageOf(result) {
  if (typeof result.result === 'string') return result.result;
  return Array.isArray(result.errors) ? String(result.errors[0] ?? '') : '';
}

// --- usage ---------------------------------------------------------------------------------------

const KINDS = [
  // usage.json's name, the result's `usage` name, its `modelUsage` name
  ['input', 'input_tokens', 'inputTokens'],
  ['output', 'output_tokens', 'outputTokens'],
  ['cacheRead', 'cache_read_input_tokens', 'cacheReadInputTokens'],
  ['cacheWrite', 'cache_creation_input_tokens', 'cacheCreationInputTokens'],
];

/**
 * What this run spent. Tokens: `modelUsage` summed over its models (every call: the main loop,
 * subagents, internal calls; the result's `usage` counts the main loop only and is the fallback when
 * there is no `modelUsage`). Cost: `total_cost_usd`. A resumed conversation's totals go on from the
 * ones its transcript saved (the baseline), so those are subtracted: each run reports only its own.
 */
function usageOf(result, baseline) {
  const modelUsage = result && isObject(result.modelUsage) && Object.keys(result.modelUsage).length > 0 ? result.modelUsage : null;
  const tokens = {};
  for (const [name, usageName, modelName] of KINDS) {
    const count = modelUsage
      ? sumOver(modelUsage, modelName) - sumOver(baseline?.modelUsage, modelName)
      : count0(isObject(result?.usage) ? result.usage[usageName] : 0);
    tokens[name] = Math.max(0, Math.round(count));
  }
  const report = { tokens };
  if (result && typeof result.total_cost_usd === 'number' && Number.isFinite(result.total_cost_usd)) {
    const spent = result.total_cost_usd - (baseline?.totalCostUSD ?? 0);
    report.costUsd = Math.max(0, Math.round(spent * 1e6) / 1e6);
  }
  return report;
}

/** The last totals a resumed transcript saved (its last `cost-state` line, which the entrypoint kept), or null. */
function readBaseline(path) {
  if (!path) return null;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8').trim() || 'null');
    if (!isObject(state)) return null;
    return {
      totalCostUSD: typeof state.totalCostUSD === 'number' && Number.isFinite(state.totalCostUSD) ? state.totalCostUSD : 0,
      modelUsage: isObject(state.modelUsage) ? state.modelUsage : null,
    };
  } catch {
    return null;
  }
}

function sumOver(modelUsage, field) {
  if (!isObject(modelUsage)) return 0;
  return Object.values(modelUsage).reduce((sum, usage) => sum + count0(isObject(usage) ? usage[field] : 0), 0);
}

const count0 = (value) => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0);
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

// --- rate limits ---------------------------------------------------------------------------------

/**
 * The rate or usage limit that refused the run, or null. What Claude Code 2.1.332 gives (checked
 * against a fake API, with CLAUDE_CODE_MAX_RETRIES=0):
 * - API key, HTTP 429: exit 1, `is_error: true`, `api_error_status: 429`, `api_error_type:
 *   "rate_limit_error"`, `result: "API Error: Request rejected (429) · <the API's message>"`; the
 *   response's `retry-after` and `anthropic-ratelimit-*-reset` headers show nowhere (not in the
 *   result, the transcript or --debug-file), so the reset time is not known.
 * - claude.ai subscription (unified limits), HTTP 429: `result: "You've hit your 5-hour limit ·
 *   resets 7:03am (UTC)"`, the time in the container's zone (UTC; a date too when over a day away).
 * - older versions: `Claude AI usage limit reached|<unix epoch of the reset>`.
 * An overloaded API (529, `overloaded_error`) is not a rate limit: that run failed as any other.
 */
function rateLimitOf(result, raw, now) {
  const text = result ? messageOf(result) : raw;
  const status = result?.api_error_status;
  const type = result?.api_error_type;
  if (status === 529 || type === 'overloaded_error') return null;
  const message = clip(firstLine(text).replace(/\s+/g, ' '), MAX_RATE_LIMIT_MESSAGE) || undefined;

  const epoch = /Claude AI usage limit reached\|(\d{9,12})/.exec(text);
  if (epoch) {
    const resetAt = isoOrUndefined(Number(epoch[1]) * 1000);
    return { kind: 'Claude usage limit reached', ...(resetAt ? { resetAt } : {}), message: 'Claude AI usage limit reached' };
  }
  const subscription = /You(?:'|\u2019)ve hit your (?:[\w-]+ )?limit/.exec(text);
  if (subscription) {
    const resetAt = resetTimeOf(/ · resets ([^·\n]+)/.exec(text)?.[1], now);
    return { kind: `429, ${subscription[0].replace(/^You(?:'|\u2019)ve hit your /, '')}`, ...(resetAt ? { resetAt } : {}), message };
  }
  const rateLimited =
    status === 429 ||
    type === 'rate_limit_error' ||
    /rate_limit_error/.test(text) ||
    /Request rejected \(429\)/.test(text) ||
    /^API Error: 429\b/m.test(text);
  if (!rateLimited || /\b529\b|overloaded/i.test(text)) return null;
  return { kind: `429${type ? ` ${type}` : ''}`, message };
}

/**
 * When "resets 7:03am (UTC)" or "resets Dec 3, 7am (UTC)" (or "Dec 3, 2027, 7am") is: the next such
 * time, a minute late (the CLI shows the minute the limit resets in). Only a time in UTC is read.
 */
function resetTimeOf(shown, now) {
  const match = /^(?:([A-Z][a-z]{2}) (\d{1,2}), (?:(\d{4}), )?)?(\d{1,2})(?::(\d{2}))?\s*([ap]m) \((?:UTC|Etc\/UTC|GMT|Etc\/GMT)\)/i.exec((shown ?? '').trim());
  if (!match) return undefined;
  const [, month, day, year, hourText, minuteText, half] = match;
  const hour = (Number(hourText) % 12) + (half.toLowerCase() === 'pm' ? 12 : 0);
  const minute = Number(minuteText ?? 0);
  const monthIndex = month ? ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(month.toLowerCase()) : -1;
  if (hour > 23 || minute > 59 || (month && monthIndex < 0)) return undefined;
  let at;
  if (month) {
    const on = (y) => Date.UTC(y, monthIndex, Number(day), hour, minute);
    at = on(year ? Number(year) : now.getUTCFullYear());
    if (!year && at < now.getTime() - 24 * 3600_000) at = on(now.getUTCFullYear() + 1);
  } else {
    at = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute);
    if (at < now.getTime() - 60_000) at += 24 * 3600_000;
  }
  return isoOrUndefined(at + 60_000);
}

function isoOrUndefined(ms) {
  return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : undefined;
}

// --- conversation --------------------------------------------------------------------------------

/**
 * Keeps Claude's transcript of this run's conversation as conversation/<id>.jsonl, and its id as
 * conversation/session-id, for a session that continues this one. The id: the result's
 * `session_id`, else the one resumed, else the newest transcript of this workspace. Only a regular
 * file (never a link), at most HUB_CC_MAX_TRANSCRIPT_BYTES.
 */
function keepConversation(outputDir, result) {
  const projectDir = process.env.HUB_CC_PROJECT_DIR;
  if (!projectDir) return;
  const maxBytes = Number(process.env.HUB_CC_MAX_TRANSCRIPT_BYTES) || 128 * 1024 * 1024;
  const resumed = process.env.HUB_CC_RESUMED_ID || '';
  const id = [result?.session_id, resumed].find((candidate) => typeof candidate === 'string' && SESSION_ID.test(candidate)) ?? newestTranscript(projectDir);
  if (!id) return;
  const transcript = readTranscript(join(projectDir, `${id}.jsonl`), maxBytes);
  if (typeof transcript === 'string') {
    if (transcript) say(`conversation ${id} not kept: ${transcript}`);
    return;
  }
  const dir = join(outputDir, 'conversation');
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${id}.jsonl`), transcript);
    writeFileSync(join(dir, 'session-id'), `${id}\n`);
    say(`conversation ${id} kept in ${dir}/ (${transcript.length} bytes)${id === resumed ? ', resumed and continued' : ''}`);
  } catch (error) {
    say(`conversation ${id} not kept: ${error.code ?? error.message}`);
  }
}

function newestTranscript(projectDir) {
  try {
    return readdirSync(projectDir)
      .filter((name) => name.endsWith('.jsonl') && SESSION_ID.test(name.slice(0, -6)))
      .map((name) => ({ id: name.slice(0, -6), mtime: lstatSync(join(projectDir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)[0]?.id;
  } catch {
    return undefined;
  }
}

/** The transcript's bytes, or why not ('' when there is none). */
function readTranscript(path, maxBytes) {
  let fd;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    return error.code === 'ENOENT' ? '' : error.code === 'ELOOP' ? 'a symbolic link' : `unreadable (${error.code})`;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return 'not a regular file';
    if (stats.size > maxBytes) return `larger than ${maxBytes} bytes`;
    const buffer = Buffer.alloc(stats.size);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, length);
      if (read === 0) break;
      length += read;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

// --- the last line -------------------------------------------------------------------------------

/** Turns, time, this run's tokens and cost. */
function summary(result, report) {
  const parts = [];
  if (typeof result.num_turns === 'number') parts.push(`${result.num_turns} turns`);
  if (typeof result.duration_ms === 'number') parts.push(`${(result.duration_ms / 1000).toFixed(1)} s`);
  const tokens = Object.values(report.tokens).reduce((sum, count) => sum + count, 0);
  if (tokens > 0) parts.push(`${tokens} tokens`);
  if (typeof report.costUsd === 'number') parts.push(`$${report.costUsd.toFixed(4)}`);
  return parts.join(', ') || 'done';
}

// Why the API may have been out of reach, as the container sees it: Hub gave it no way out at all
// (network none and no egress proxy), or a way through Hub's egress proxy, which logs what it refused.
function networkHint(noNetwork, viaProxy) {
  if (noNetwork) {
    return ' (no network: this session may reach no destination; allow api.anthropic.com for its image with HUB_EGRESS on the runner, as the default does for hub/claude-code*)';
  }
  if (viaProxy) return " (through Hub's egress proxy: its log's [hub] egress lines and the session's egress say what was refused)";
  return '';
}

function nonEmptyFile(path) {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

const firstLine = (text) => text.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
const clip = (text, length) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
const ensureNewline = (text) => (text.endsWith('\n') ? text : `${text}\n`);
/** Lines printed with the last one, on its stream: stdout and stderr are kept apart, and the last line must stay last. */
const notes = [];
const say = (message) => notes.push(`${TAG}: ${message}\n`);

function finish(code, message) {
  let line = `${TAG}: ${message}`.replace(/\s+/g, ' ');
  if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE - 1)}…`;
  (code === 0 ? process.stdout : process.stderr).write(`${notes.join('')}${line}\n`);
  process.exitCode = code;
}

main();
