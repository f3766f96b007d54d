/**
 * Lines typed on the terminal without echo: Enter ends one, Backspace takes a character
 * back, Ctrl-C or Ctrl-D stops the command. What arrives typed ahead waits for the next line.
 */
export function hiddenLines(): { next(): Promise<string>; close(): void } {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  const ready: string[] = [];
  let typed = '';
  let waiting: ((line: string) => void) | undefined;
  const onData = (data: Buffer): void => {
    for (const ch of data.toString('utf8')) {
      if (ch === '\u0003' || ch === '\u0004') {
        close();
        process.stderr.write('\nllmtap: stopped\n');
        process.exit(130);
      }
      if (ch === '\r' || ch === '\n') {
        ready.push(typed);
        typed = '';
      } else typed = ch === '\u007f' || ch === '\b' ? [...typed].slice(0, -1).join('') : typed + ch;
    }
    if (waiting && ready.length > 0) {
      const give = waiting;
      waiting = undefined;
      give(ready.shift()!);
    }
  };
  const close = (): void => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
  stdin.on('data', onData);
  return {
    next: () => (ready.length > 0 ? Promise.resolve(ready.shift()!) : new Promise((resolve) => (waiting = resolve))),
    close,
  };
}

/** One line typed on the terminal without echo, after `prompt` on stderr (stdout may be going to `eval`). */
export async function askHidden(prompt: string): Promise<string> {
  const lines = hiddenLines();
  process.stderr.write(prompt);
  const line = await lines.next();
  process.stderr.write('\n');
  lines.close();
  return line;
}
