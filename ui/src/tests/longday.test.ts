// A console left open all day: what it holds after hundreds of arrivals that leave again, and
// after hours of ticking, is what it held after the first few minutes.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import App from '../App.svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { ConsoleModel, LOCAL_ERRORS_SHOWN, OUTCOMES_SHOWN } from '../lib/console.svelte';
import { createMockBackend, type MockBackend } from '../lib/mock';
import type { DayRow } from '../lib/types';
import { clinicState, renderConsole, row } from './helpers';

const HOUR = 3_600_000;

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Lets the pushed state reach the screen (the mock pushes in a microtask, Svelte draws in another). */
async function settle() {
  await Promise.resolve();
  flushSync();
}

/** A day of arrivals: each patient comes into the queue as the one before leaves it, so the
 * queue keeps its open visits and one newcomer. Resolves to the last one, still waiting. */
async function arrivals(backend: MockBackend, n: number): Promise<string> {
  const open = backend.current().queue;
  let id = '';
  for (let i = 0; i < n; i++) {
    id = `v-day-${i}`;
    const next = row({ visit_id: id, patient_name: `Patient ${i}`, waiting_since: Date.now() });
    backend.update((s) => {
      s.queue = [...open, next];
    });
    await settle();
  }
  return id;
}

describe('a long day at the front desk', () => {
  test('a hidden window keeps one arrivals report waiting, not one per arrival', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-open', patient_name: 'Maria Gonzalez' })] });
    await waitFor(() => expect(backend.callsTo('first_paint')).toHaveLength(1));

    // Minimised all afternoon: the webview draws no frames, so frame callbacks wait.
    const waiting: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (draw: FrameRequestCallback) => waiting.push(draw));
    const stays = await arrivals(backend, 500);
    expect(waiting.length).toBeLessThanOrEqual(1);

    // Shown again: one report, of the patient still on screen.
    waiting.splice(0).forEach((draw) => draw(performance.now()));
    await new Promise((r) => setTimeout(r, 0));
    expect(backend.callsTo('rows_painted').map((c) => c.args)).toEqual([{ visitIds: [stays] }]);
    expect(screen.getAllByTestId('queue-row')).toHaveLength(2);
  }, 30_000);

  test('the queue lets go of the rows it measured once their patients have left', async () => {
    // jsdom lays nothing out: give every drawn row the height a compact row has.
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(40);
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-open-1', patient_name: 'Maria Gonzalez' }), row({ visit_id: 'v-open-2', patient_name: 'Ahmed Khan' })],
    });
    const list = () => screen.getByTestId('queue-list');
    await waitFor(() => expect(list().querySelector('[data-visit-id="v-open-2"]')).toBeTruthy());
    const stays = await arrivals(backend, 500);
    await waitFor(() => expect(list().querySelector(`[data-visit-id="${stays}"]`)).toBeTruthy());
    await new Promise((r) => setTimeout(r, 0));
    // The two open visits, the last arrival and the two section headings.
    expect(Number(list().dataset.measured)).toBe(5);
  }, 30_000);

  test('the same call failing all afternoon leaves one toast, not one per failure', async () => {
    await renderConsole(
      { queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] },
      { actError: { code: 'offline', message: 'The shell could not queue it' } },
    );
    await fireEvent.click(screen.getByTestId('queue-row'));
    const claim = await screen.findByTestId('action-claim');
    for (let i = 0; i < 200; i++) {
      await fireEvent.click(claim);
      await settle();
    }
    const lines = () => screen.getAllByTestId('local-error').map((e) => e.textContent);
    await waitFor(() => expect(lines().length).toBeGreaterThan(0));
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toContain('The shell could not queue it');
  });

  test('different errors all day keep only the newest few toasts', () => {
    const model = new ConsoleModel(createMockBackend());
    for (let i = 1; i <= 500; i++) model.pushError(`Could not send: error ${i}`);
    expect(model.localErrors.map((e) => e.text)).toEqual(
      Array.from({ length: LOCAL_ERRORS_SHOWN }, (_, k) => `Could not send: error ${500 - LOCAL_ERRORS_SHOWN + 1 + k}`),
    );
  });

  test('a start-up that failed stops asking what start-up is doing', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const backend = createMockBackend(clinicState());
    backend.appState = () => Promise.reject({ code: 'error', message: 'The database is locked' });
    render(App, { props: { backend } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(screen.getByRole('alert').textContent).toContain('The database is locked');
    const asked = backend.callsTo('start_progress').length;
    // Only the console's one clock is left running.
    expect(vi.getTimerCount()).toBe(1);

    // Left on the error page through the night.
    await vi.advanceTimersByTimeAsync(8 * HOUR);
    expect(backend.callsTo('start_progress')).toHaveLength(asked);
    expect(vi.getTimerCount()).toBe(1);
  });

  test('refusals left undismissed all day draw the newest few toasts and count the rest', async () => {
    const outcomes = Array.from({ length: 300 }, (_, i) => ({
      action_id: `a-${i}`,
      visit_id: 'v-1',
      command: 'claim',
      code: 'already_claimed',
      message: `already claimed (${i})`,
      held_by: [],
    }));
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })], outcomes });
    const drawn = () => screen.getAllByTestId('outcome');
    expect(drawn()).toHaveLength(OUTCOMES_SHOWN);
    expect(screen.getByTestId('outcomes-older').textContent).toContain(`${300 - OUTCOMES_SHOWN} older actions`);
    // Dismissing one brings the next older one up.
    await fireEvent.click(within(drawn().at(-1)!).getByTestId('outcome-dismiss'));
    await waitFor(() => expect(screen.getByTestId('outcomes-older').textContent).toContain(`${299 - OUTCOMES_SHOWN} older`));
    expect(drawn()).toHaveLength(OUTCOMES_SHOWN);
    expect(backend.current().outcomes).toHaveLength(299);
  });

  test('the day list draws the finished patients in view, not all of the day', async () => {
    const finished = (i: number) =>
      ({
        ...row({ visit_id: `v-done-${i}`, patient_name: `Patient ${i}`, status: 'completed' }),
        allowed: [],
        finished_at: Date.now() - i * 60_000,
        seen_by: [],
      }) as DayRow;
    await renderConsole({ today: Array.from({ length: 500 }, (_, i) => finished(i)) });
    await fireEvent.click(screen.getByTestId('tab-today'));
    const list = await screen.findByTestId('day-list');
    expect(list.dataset.rows).toBe('500');
    const drawn = within(list).getAllByTestId('day-row');
    expect(drawn.length).toBeGreaterThan(10);
    expect(drawn.length).toBeLessThan(60);
    expect(within(drawn[0]).getByTestId('day-name').textContent).toBe('Patient 0');
  });
});
