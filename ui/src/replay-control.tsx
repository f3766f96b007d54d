import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { replayTimeline, type ReplayStep } from '../../src/sessions/replay-timeline.js';
import { turnKey, type ThreadView } from './api.js';
import { counted, ms } from './format.js';

export const SPEEDS = [1, 5, 20] as const;
/** As `llmtap replay`'s default --max-gap: an agent left idle for an hour should not stall a replay. */
const MAX_GAP_MS = 10_000;

export interface Replay {
  steps: ReplayStep[];
  /** Turns revealed so far; null when not replaying (every turn shown). */
  shown: number | null;
  playing: boolean;
  speed: number;
  /** The exchange ids revealed, or null for all. */
  visible: Set<string> | null;
  /** The turn revealed last (highlighted). */
  current: string | null;
  toggle(): void;
  next(): void;
  reset(): void;
  stop(): void;
  setSpeed(speed: number): void;
}

/**
 * Plays a session's turns back in the order they happened (across threads), waiting
 * the recorded gap between them divided by the speed, the way `llmtap replay` does
 * in the terminal (the same pure timeline). Keys: space plays or pauses, n steps.
 */
export function useReplay(threads: ThreadView[]): Replay {
  const [speed, setSpeed] = useState<number>(SPEEDS[0]);
  const steps = useMemo(() => replayTimeline(threads, { speed, maxGapMs: MAX_GAP_MS }), [threads, speed]);
  const [shown, setShown] = useState<number | null>(null);
  const [playing, setPlaying] = useState(false);

  // While playing, the next turn appears after its (scaled) recorded wait.
  useEffect(() => {
    if (!playing) return;
    const at = shown ?? 0;
    if (at >= steps.length) return void setPlaying(false);
    const timer = setTimeout(() => setShown(at + 1), at === 0 ? 0 : steps[at]!.waitMs);
    return () => clearTimeout(timer);
  }, [playing, shown, steps]);

  const next = (): void => {
    setPlaying(false);
    setShown((s) => Math.min(steps.length, (s ?? 0) + 1));
  };
  const toggle = (): void => {
    if (playing) return setPlaying(false);
    // Play from the start when nothing or everything is shown.
    if (shown === null || shown >= steps.length) setShown(0);
    setPlaying(true);
  };
  const reset = (): void => {
    setPlaying(false);
    setShown(0);
  };
  const stop = (): void => {
    setPlaying(false);
    setShown(null);
  };

  const keys = useRef({ toggle, next });
  keys.current = { toggle, next };
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      // Space on a focused button clicks it already.
      if (e.key === ' ' && !(e.target instanceof HTMLButtonElement)) keys.current.toggle();
      else if (e.key === 'n') keys.current.next();
      else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const visible = shown === null ? null : new Set(steps.slice(0, shown).map((s) => turnKey(s.turn)));
  const current = shown ? turnKey(steps[shown - 1]!.turn) : null;
  return { steps, shown, playing, speed, visible, current, toggle, next, reset, stop, setSpeed };
}

export function ReplayBar({ replay }: { replay: Replay }) {
  const { steps, shown, playing } = replay;
  const upcoming = shown !== null && shown < steps.length ? steps[shown] : undefined;
  return (
    <div class="replay" role="toolbar" aria-label="replay">
      <b>Replay</b>
      <button type="button" class="replay-play" onClick={replay.toggle} title="play / pause (space)">{playing ? '‖ pause' : '▶ play'}</button>
      <button type="button" class="replay-next" onClick={replay.next} disabled={shown !== null && shown >= steps.length} title="next turn (n)">next ›</button>
      <button type="button" onClick={replay.reset} title="back to the start">« restart</button>
      <select class="replay-speed" value={String(replay.speed)} onChange={(e) => replay.setSpeed(Number((e.target as HTMLSelectElement).value))} title="playback speed">
        {SPEEDS.map((s) => <option key={s} value={String(s)}>{s}×</option>)}
      </select>
      <span class="replay-pos mono">{shown === null ? counted(steps.length, 'turn') : `turn ${shown} / ${steps.length}`}</span>
      {upcoming && shown !== 0 && <span class="dim">next after {ms(upcoming.gapMs)} recorded{replay.speed > 1 ? ` (${ms(upcoming.waitMs)} at ${replay.speed}×)` : ''}</span>}
      {shown !== null && <button type="button" onClick={replay.stop} title="show every turn">show all</button>}
      <span class="hint">space play/pause · n next</span>
    </div>
  );
}
