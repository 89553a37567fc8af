/**
 * Replaces every occurrence of one byte sequence in a stream of chunks, scanning left to right
 * without overlaps, exactly as a replace-all over the whole would. It holds back only the bytes it
 * cannot yet decide about: a chunk's end that is the start of the needle (at most `needle.length − 1`
 * bytes), which the next chunk may complete. Anything else is passed on at once, so a line printed
 * live is not held up by the masking.
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
    const undecided = data.length - this.startOfNeedleAtEnd(data, from);
    parts.push(data.subarray(from, undecided));
    // Copied, so that a small held tail does not pin a large chunk in memory.
    this.held = Buffer.from(data.subarray(undecided));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** How many of the last bytes of `data` (from `from` on) are the start of the needle: the longest such end. */
  private startOfNeedleAtEnd(data: Buffer, from: number): number {
    for (let length = Math.min(this.needle.length - 1, data.length - from); length > 0; length--) {
      const start = data.length - length;
      if (data[start] === this.needle[0] && data.compare(this.needle, 0, length, start) === 0) return length;
    }
    return 0;
  }

  /** The held tail, which no later byte can complete now. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }
}
