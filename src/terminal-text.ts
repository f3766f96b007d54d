/**
 * Text from clients and models made safe to print on a terminal: every control character
 * but newline and tab shown as U+FFFD, so an escape sequence in a prompt, an answer or a
 * model name cannot set the window title, move the cursor, recolour or hide what follows.
 * Shared by the CLI's renderers (cli/render/format.ts terminalSafe) and the pretty log.
 */
export function withoutControls(text: string): string {
  return text.replace(CONTROL, '\ufffd');
}

// eslint-disable-next-line no-control-regex -- the point is to find them
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
