#!/usr/bin/env node
// Turns what `claude -p --output-format json` printed into the session's output and exit code:
//   <output>/result.json  Claude Code's JSON result, as it gave it
//   <output>/result.md    its final answer (the JSON's `result` text), unless Claude wrote that file
//                         itself during the run (Hub's preambles ask it to): then its file stays
// and prints one last line saying how it went (Hub puts a failed session's last log line in its
// status reason). Success means: claude exited 0, and its result is not an error.
// Usage: node result.js <claude stdout file> <claude exit code> <output dir>
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const TAG = 'hub-claude-code';
const MAX_LINE = 280; // the runner keeps 300 characters of the last line

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

  if (stoppedBy) {
    return finish(128 + (stoppedBy === 'SIGINT' ? 2 : 15), `stopped by ${stoppedBy} (Claude Code exited ${claudeExit})`);
  }
  if (!result) {
    const hint = raw.trim() ? `; what it printed is in claude-output.txt` : '';
    return finish(claudeExit || 1, `Claude Code exited ${claudeExit} without a JSON result${hint}${networkHint(noNetwork, viaProxy)}`);
  }
  const succeeded = claudeExit === 0 && result.is_error === false && result.subtype === 'success';
  if (succeeded) {
    const answer = keptAnswer ? `${join(outputDir, 'result.md')} (written by Claude)` : join(outputDir, 'result.md');
    return finish(0, `Claude Code completed: ${summary(result)}; answer in ${answer}`);
  }
  const kind = [result.subtype !== 'success' && result.subtype, result.terminal_reason, result.api_error]
    .filter((part) => typeof part === 'string' && part)
    .join(', ');
  const message = typeof result.result === 'string' ? result.result : Array.isArray(result.errors) ? String(result.errors[0] ?? '') : '';
  const said = clip(firstLine(message), 160) || 'no message';
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

function summary(result) {
  const parts = [];
  if (typeof result.num_turns === 'number') parts.push(`${result.num_turns} turns`);
  if (typeof result.duration_ms === 'number') parts.push(`${(result.duration_ms / 1000).toFixed(1)} s`);
  if (typeof result.total_cost_usd === 'number') parts.push(`$${result.total_cost_usd.toFixed(4)}`);
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

function finish(code, message) {
  let line = `${TAG}: ${message}`.replace(/\s+/g, ' ');
  if (line.length > MAX_LINE) line = `${line.slice(0, MAX_LINE - 1)}…`;
  (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
  process.exitCode = code;
}

main();
