// A push of changes laid onto the state held gives the rows the whole state would: recorded
// from the real engine (src/fixtures/engine.json, `push`): reception's view, the changes after
// a claim, a call ended and a new priority, and the view after them.
import { describe, expect, it } from 'vitest';
import { engine } from '../fixtures/engine';
import { layChanges } from '../lib/changes';
import { emptyState } from '../lib/mock';
import type { AppState } from '../lib/types';

const { before, changes, after } = engine.push;
const held = (view: typeof before, push: number): AppState => ({
  ...emptyState(),
  ...structuredClone(view),
  screen: 'queue',
  push,
});
const ids = (rows: { visit_id: string }[]) => rows.map((r) => r.visit_id);

describe('laying changes on', () => {
  it('gives the same lists, in the same order, as the whole state after them', () => {
    const laid = layChanges(held(before, 4), { ...changes, push: 5, base: 4 });
    const whole = held(after, 5);
    for (const list of ['queue', 'requests', 'sessions', 'today'] as const) {
      expect(laid[list], list).toEqual(whole[list]);
    }
    expect(laid.providers).toEqual(whole.providers);
    expect(laid.push).toBe(5);
  });

  it('carries only the visits that changed', () => {
    const changed = new Set(changes.rows.map((r) => r.visit_id));
    expect(changed.size).toBe(3);
    // The claimed patient moved to With staff, the ended call left the queue for the day.
    const moved = ids(after.queue).filter((id) => !ids(before.queue).includes(id));
    const left = ids(before.queue).filter((id) => !ids(after.queue).includes(id));
    expect(left.length).toBe(1);
    expect(ids(after.today)).toContain(left[0]);
    expect(moved).toEqual([]);
    expect(changes.rows.length).toBeLessThan(before.queue.length + before.today.length);
  });

  it('leaves the rows and order of a state untouched by an empty change list', () => {
    const state = held(before, 1);
    const laid = layChanges(state, { ...changes, rows: [], push: 2, base: 1 });
    expect(ids(laid.queue)).toEqual(ids(state.queue));
    expect(laid.today).toBe(state.today);
  });
});
