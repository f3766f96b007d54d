import type { Block, ConversationMessage } from '../../src/sessions/conversation.js';
import { estimatedMark, type EstimatedPart } from '../../src/archive/estimated-part.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fold } from './fold.js';
import { counted } from './format.js';
import { renderMarkdown } from './markdown.js';
import { notAppliedAt, policyLines } from './policy-lines.js';

/** Text as sanitized Markdown (see markdown.ts). */
export function Markdown({ text }: { text: string }) {
  return <div class="md" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

/**
 * A prompt's or an answer's text in a turn: whole when short; when long (fold.ts), its
 * first lines and a toggle, so one pasted file does not push the rest of the session down.
 * The rest stays in the page, `hidden="until-found"`: the browser's find-in-page searches
 * it, and on a match fires `beforematch`, which opens the fold as the toggle would.
 */
export function LongText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const rest = useRef<HTMLDivElement>(null);
  const folded = fold(text);
  useEffect(() => {
    const el = rest.current;
    if (!el) return;
    const found = () => setOpen(true);
    el.addEventListener('beforematch', found);
    return () => el.removeEventListener('beforematch', found);
  }, [folded !== null]);
  if (!folded) return <Markdown text={text} />;
  return (
    <div class={`long ${open ? 'open' : 'folded'} cut-${folded.cut}`}>
      <Markdown text={folded.head} />
      <div class="fold-rest" ref={rest} hidden={open ? undefined : 'until-found'}>{folded.plain ? <pre class="plain">{folded.rest}</pre> : <Markdown text={folded.rest} />}</div>
      <button type="button" class="fold" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? 'show less' : folded.label}</button>
    </div>
  );
}

export function Message({ message, mark }: { message: ConversationMessage; mark?: '+' | '−' }) {
  return (
    <div class={`msg role-${message.role}${mark === '+' ? ' added' : mark === '−' ? ' removed' : ''}`}>
      <div class="role">{mark ? `${mark} ` : ''}{message.role}</div>
      <div class="blocks">{message.blocks.map((b, i) => <BlockView key={i} block={b} />)}</div>
    </div>
  );
}

export function BlockView({ block }: { block: Block }) {
  switch (block.type) {
    case 'text':
      return block.label ? <><div class="dim">[{block.label}]</div><LongText text={block.text} /></> : <LongText text={block.text} />;
    case 'thinking':
      return <Thinking text={block.text} />;
    case 'tool_call':
      return <ToolCall name={block.name} args={block.arguments} id={block.id ?? null} />;
    case 'tool_result':
      return (
        <details class={block.isError ? 'tool-result error' : 'tool-result'} open={block.text.length < 400}>
          <summary>tool result{block.isError ? ' (error)' : ''}{block.id ? <span class="dim"> {block.id}</span> : null}</summary>
          <pre>{block.text}</pre>
        </details>
      );
    default:
      return <div class="dim">[{block.kind}]</div>;
  }
}

export function Thinking({ text }: { text: string }) {
  return (
    <details class="thinking">
      <summary>thinking <span class="dim">({counted(text.length, 'char')})</span></summary>
      <pre>{text}</pre>
    </details>
  );
}

export function ToolCall({ name, args, id }: { name: string; args: string; id: string | null }) {
  return (
    <div class="tool-call">
      <div><span class="tag">tool call</span> <b>{name}</b>{id ? <span class="dim"> {id}</span> : null}</div>
      <pre>{pretty(args)}</pre>
    </div>
  );
}

export function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** After a turn's tokens: ` (estimated)`, or ` (output estimated)` when the input is as the provider reported it. */
export function EstimatedMark({ part }: { part: EstimatedPart }) {
  const why = part === 'all' ? 'the answer reported no usage: counted by llmtap from the text' : 'the stream was cut before its final usage: the output counted by llmtap from the text, the input as the provider reported it';
  return <span class="dim" title={why}>{estimatedMark(part)}</span>;
}

/**
 * A policy record's decisions one per line as `llmtap show` words them: a refusal in red,
 * monitor-only decisions dimmed, one a rule could not apply (its reason in the line) in amber.
 */
export function Decisions({ record }: { record: unknown }) {
  const lines = policyLines(record);
  if (!lines) return null;
  const notApplied = notAppliedAt(record);
  const kind = (line: string, i: number) => (line.startsWith('refused:') ? 'refused' : notApplied[i] ? 'not-applied' : line.startsWith('monitor:') ? 'dim' : undefined);
  return <ul class="decisions">{lines.map((line, i) => <li key={i} class={kind(line, i)} title={notApplied[i] ? 'the rule matched but did not change the request: the reason is in brackets' : undefined}>{line}</li>)}</ul>;
}

/** A session or exchange as `llmtap export` writes it, downloaded: HAR for DevTools and HAR viewers, JSON lines for scripts, CSV for a spreadsheet. */
export function Downloads({ path }: { path: string }) {
  return (
    <span class="downloads">
      download <a href={`/ui/api/${path}/export?format=har`} download>HAR</a> · <a href={`/ui/api/${path}/export?format=jsonl`} download>JSONL</a> · <a href={`/ui/api/${path}/export?format=csv`} download>CSV</a>
    </span>
  );
}

/** Under a list: how many rows it shows, and while older ones may be behind the last page read, a button that loads them. */
export function Paging({ shown, more, loading, onLoad }: { shown: string; more: boolean; loading: boolean; onLoad: () => void }) {
  return (
    <p class="paging dim">
      {shown} shown{more ? ' ' : ' · no older ones'}
      {more && <button type="button" class="load-older" disabled={loading} onClick={onLoad}>{loading ? 'loading…' : 'load older'}</button>}
    </p>
  );
}

/** A labelled choice of plain values (a grouping, a period): `options` as [value, label] pairs. */
export function Choice<T extends string>({ id, label, value, options, onChange }: { id: string; label: string; value: T; options: readonly (readonly [T, string])[]; onChange: (value: T) => void }) {
  return (
    <label>{label}{' '}
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value as T)}>
        {options.map(([v, text]) => <option key={v} value={v}>{text}</option>)}
      </select>
    </label>
  );
}
