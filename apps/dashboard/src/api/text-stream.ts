/** The text of a response body as it arrives (UTF-8, a character split between chunks kept whole). */
export async function* textChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    // The reader stops here whether the stream ended or its reader did: the connection is let go.
    await reader.cancel().catch(() => undefined);
  }
}

/** Splits text that arrives in pieces into whole lines (LF or CRLF), the last one kept until its end comes. */
export class LineSplitter {
  private rest = '';

  push(text: string): string[] {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  /** What is left once the stream ended: its last line, when it had no newline. */
  flush(): string[] {
    const rest = this.rest;
    this.rest = '';
    return rest ? [rest] : [];
  }
}

/** At most `maxChars` of a body's text (what is read past them is not kept), and whether there was more. */
export async function textUpTo(body: ReadableStream<Uint8Array>, maxChars: number): Promise<{ text: string; truncated: boolean }> {
  let text = '';
  for await (const chunk of textChunks(body)) {
    text += chunk;
    if (text.length > maxChars) return { text: text.slice(0, maxChars), truncated: true };
  }
  return { text, truncated: false };
}
