/**
 * Replaces every occurrence of one byte sequence in a stream of chunks, scanning left to right
 * without overlaps, exactly as a replace-all over the whole would. It never holds more than
 * `needle.length − 1` bytes back: the only bytes it cannot yet decide about are those that could be
 * the start of an occurrence that the next chunk completes.
 */
export class StreamingReplacer {
  private held: Buffer = Buffer.alloc(0);

  constructor(
    private readonly needle: Buffer,
    private readonly replacement: Buffer,
  ) {
    if (needle.length === 0) throw new Error('StreamingReplacer: the needle must not be empty');
  }

  /** The bytes that are now decided: `chunk`'s and the held ones', replaced, minus a new held tail. */
  push(chunk: Buffer): Buffer {
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    const parts: Buffer[] = [];
    let from = 0;
    for (let index = data.indexOf(this.needle); index >= 0; index = data.indexOf(this.needle, from)) {
      parts.push(data.subarray(from, index), this.replacement);
      from = index + this.needle.length;
    }
    // An occurrence starting before `undecided` would have been found above.
    const undecided = Math.max(from, data.length - (this.needle.length - 1));
    parts.push(data.subarray(from, undecided));
    // Copied, so that a small held tail does not pin a large chunk in memory.
    this.held = Buffer.from(data.subarray(undecided));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** The held tail, which no later byte can complete now. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }
}
