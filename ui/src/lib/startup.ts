// Start-up timing: the page's own steps, sent to the shell with the first paint so its log says
// where a slow start spent its time (the benchmark prints them).

/** A step and when it happened, in ms since the page began to load. */
export type Mark = [step: string, at: number];

const marks: Mark[] = [];

/** Notes that `step` happened now (only until the queue is first painted). */
export function mark(step: string): void {
  if (marks.length < 32) marks.push([step, performance.now()]);
}

/** The steps so far, and now, for the shell to set against its own clock. */
export function steps(): { marks: Mark[]; now: number } {
  return { marks: [...marks], now: performance.now() };
}
