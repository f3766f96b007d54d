import { setFlagsFromString } from 'node:v8';

/**
 * Operators write regular expressions llmtap runs on every captured text (`--redact`,
 * a policy's redact `patterns`), and clients choose that text. A pattern with nested
 * quantifiers (`(a+)+$`) then takes exponential time on a crafted prompt and stops the
 * proxy's one event loop — every client's traffic, not only the sender's. V8 can move a
 * regular expression to its linear-time engine once a match has backtracked 50,000
 * times; this turns that on for the process (imported first, before any pattern runs;
 * patterns compile on their first use, which reads the flag). A pattern the linear
 * engine cannot run (backreferences, lookaround) keeps backtracking.
 */
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
