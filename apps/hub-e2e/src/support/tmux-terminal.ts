import { execFileSync } from 'node:child_process';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A terminal a person would type in: a bash in a tmux session on a private tmux server (its own
 * socket file, so no one's tmux is touched), of a fixed size. What it shows is read with capture-pane.
 */
export class TmuxTerminal {
  private static sessions = 0;
  private readonly session = `cli-${++TmuxTerminal.sessions}`;

  private constructor(private readonly socket: string) {}

  /** Opens a bash in `cwd`, with `env` as its whole environment, and waits for its prompt (`$ `). `socket`: a file path. */
  static async open(socket: string, cwd: string, env: Record<string, string>, size = { columns: 120, rows: 40 }): Promise<TmuxTerminal> {
    const terminal = new TmuxTerminal(socket);
    terminal.tmux(
      ['new-session', '-d', '-s', terminal.session, '-x', String(size.columns), '-y', String(size.rows), '-c', cwd, 'env PS1="$ " bash --norc --noprofile'],
      env,
    );
    await terminal.waitFor(/^\$\s*$/m, 10_000);
    return terminal;
  }

  /** Ends the private tmux server and everything in it. */
  static closeAll(socket: string): void {
    try {
      execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // no server left: nothing to end
    }
  }

  static installed(): boolean {
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  /** Types a command line and presses Enter. */
  type(line: string): void {
    this.tmux(['send-keys', '-t', this.session, '-l', line]);
    this.tmux(['send-keys', '-t', this.session, 'Enter']);
  }

  /** Presses a key, e.g. C-c. */
  press(key: string): void {
    this.tmux(['send-keys', '-t', this.session, key]);
  }

  /** What the screen shows, as text (with `escapes`, its colours and attributes as ANSI sequences). */
  screen({ escapes = false } = {}): string {
    return this.tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.session]).replace(/\n+$/, '\n');
  }

  cursorVisible(): boolean {
    return this.tmux(['display-message', '-p', '-t', this.session, '#{cursor_flag}']).trim() === '1';
  }

  /**
   * Reads the screen every 100 ms until it matches `pattern`; answers it, and every different
   * screen seen on the way (with whether the cursor was visible on it).
   */
  async waitFor(pattern: RegExp, timeoutMs = 90_000): Promise<{ screen: string; seen: { screen: string; cursorVisible: boolean }[] }> {
    const seen: { screen: string; cursorVisible: boolean }[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (seen[seen.length - 1]?.screen !== screen) seen.push({ screen, cursorVisible: this.cursorVisible() });
      if (pattern.test(screen)) return { screen, seen };
      if (Date.now() > deadline) throw new Error(`the terminal did not show ${pattern} within ${timeoutMs} ms; it shows:\n${screen}`);
      await sleep(100);
    }
  }

  private tmux(args: string[], env?: Record<string, string>): string {
    return execFileSync('tmux', ['-u', '-S', this.socket, ...args], { encoding: 'utf8', ...(env ? { env } : {}) });
  }
}
