// The queue as the front desk reads it: order, live waits on the server's clock, the room
// filter, my unconfirmed actions, the connection banner, a long queue and start-up timing.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { roomId } from '../fixtures/engine';
import { BASE, LEE, MIN, clinicState, renderConsole, row } from './helpers';

afterEach(() => {
  vi.useRealTimers();
});

const rows = () => screen.getAllByTestId('queue-row');
const names = () => rows().map((r) => within(r).getByTestId('row-name').textContent);

async function select(visitId: string) {
  const r = rows().find((el) => el.dataset.visitId === visitId)!;
  await fireEvent.click(r);
  return screen.findByTestId('details');
}

describe('the queue', () => {
  test('shows rows in the order given, with a live wait that ticks without refetching', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(BASE);
    const { backend } = await renderWithFakeTimers({
      now: BASE,
      queue: [
        row({ visit_id: 'v-b', patient_name: 'Bo Emergency', priority: 'emergency', waiting_since: BASE - 65_000 }),
        row({ visit_id: 'v-a', patient_name: 'Ana Longest', waiting_since: BASE - 30 * MIN }),
        row({ visit_id: 'v-c', patient_name: 'Cy In Call', status: 'in_call', in_call: [LEE] }),
      ],
    });

    // Not re-sorted by wait: the engine's order stands.
    expect(names()).toEqual(['Bo Emergency', 'Ana Longest', 'Cy In Call']);
    const waitOf = (i: number) => within(rows()[i]).getByTestId('row-wait').textContent;
    expect(waitOf(0)).toContain('1m 05s');
    expect(waitOf(1)).toContain('30m 00s');
    expect(within(rows()[0]).getByTestId('priority-badge').textContent).toMatch(/EMERGENCY/);
    expect(within(rows()[2]).getByTestId('status-badge').textContent).toContain('In call with Dr Amir Lee');

    await vi.advanceTimersByTimeAsync(60_000);
    expect(waitOf(0)).toContain('2m 05s');
    expect(waitOf(1)).toContain('31m 00s');
    expect(backend.callsTo('app_state')).toHaveLength(1);
    expect(backend.callsTo('visit_details')).toHaveLength(0);
  });

  test('measures waits on the server clock, not this computer’s', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(BASE);
    // The server is 10 s ahead of this machine.
    await renderWithFakeTimers({
      now: BASE + 10_000,
      queue: [row({ visit_id: 'v-1', patient_name: 'Ana', waiting_since: BASE + 10_000 - 65_000 })],
    });
    expect(within(rows()[0]).getByTestId('row-wait').textContent).toContain('1m 05s');
  });

  test('keeps its order and selection when the engine pushes a new state', async () => {
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'One' }), row({ visit_id: 'v-2', patient_name: 'Two' })],
    });
    await select('v-2');
    backend.update((s) => {
      s.queue = [row({ visit_id: 'v-3', patient_name: 'Three', priority: 'urgent' }), ...s.queue];
    });
    await waitFor(() => expect(names()).toEqual(['Three', 'One', 'Two']));
    expect(rows()[2].getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('details-name').textContent).toBe('Two');
  });

  test('filters by room', async () => {
    await renderConsole({
      queue: [
        row({ visit_id: 'v-1', patient_name: 'At reception' }),
        row({ visit_id: 'v-2', patient_name: 'With Dr Lee', room_id: roomId('lee_room'), room_name: "Dr Lee's room" }),
      ],
    });
    const filter = screen.getByTestId('room-filter') as HTMLSelectElement;
    expect([...filter.options].map((o) => o.textContent)).toEqual(['All rooms (2)', 'Reception (1)', "Dr Lee's room (1)", "Dr Okafor's room (0)"]);
    await fireEvent.change(filter, { target: { value: roomId('lee_room') } });
    expect(names()).toEqual(['With Dr Lee']);
    await fireEvent.change(filter, { target: { value: 'mine' } });
    expect(names()).toEqual(['At reception', 'With Dr Lee']);
  });

  test('shows my unconfirmed actions as sending, never as done', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Ana' })] });
    await select('v-1');
    await fireEvent.click(screen.getByTestId('action-claim'));
    const marker = await within(rows()[0]).findByTestId('row-pending');
    expect(marker.textContent).toContain('Sending claim');
    expect(rows()[0].dataset.status).toBe('waiting');
    // The button says what it is as before (no wider label to push its neighbours), and that
    // it is busy.
    const claim = screen.getByTestId('action-claim') as HTMLButtonElement;
    expect(claim.textContent?.trim()).toBe('Claim');
    expect(claim.disabled).toBe(true);
    expect(claim.getAttribute('aria-busy')).toBe('true');
    expect(screen.getByTestId('details-pending').textContent).toContain('not confirmed yet');
    expect(backend.current().connection.pending).toBe(1);
  });
});

describe('the connection banner', () => {
  test('offline: when the queue is from and how many actions wait to send', async () => {
    const asOf = new Date(2026, 10, 21, 10, 42).getTime();
    await renderConsole({ connection: { state: 'offline', since: asOf, as_of: asOf, pending: 2 } });
    expect(screen.getByTestId('connection-banner').textContent).toContain(
      'Offline — showing the queue as of 10:42, 2 actions waiting to send',
    );
  });

  test('online with nothing to send: no banner; resyncing says so', async () => {
    const { backend } = await renderConsole();
    expect(screen.queryByTestId('connection-banner')).toBeNull();
    backend.update((s) => {
      s.connection = { state: 'resyncing', pending: 0 };
    });
    expect((await screen.findByTestId('connection-banner')).textContent).toMatch(/catching up/);
  });
});

describe('a long queue', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => row({ visit_id: `v-${i}`, patient_name: `Patient ${i}` }));

  test('draws only the rows in view, and the keys still reach every patient', async () => {
    vi.useRealTimers();
    await renderConsole({ queue: many(500) });
    const list = screen.getByTestId('queue-list');
    expect(list.dataset.rows).toBe('500');
    expect(screen.getByTestId('tab-queue').textContent).toContain('500');
    const drawn = rows().length;
    expect(drawn).toBeGreaterThan(5);
    expect(drawn).toBeLessThan(60);
    expect(names()[0]).toBe('Patient 0');

    // Far down the list with the arrow key: the row is drawn, selected and focused.
    await fireEvent.keyDown(window, { key: 'ArrowDown' });
    for (let i = 0; i < 99; i++) await fireEvent.keyDown(document.activeElement ?? window, { key: 'ArrowDown' });
    await waitFor(() => expect((document.activeElement as HTMLElement | null)?.dataset.visitId).toBe('v-99'));
    expect(within(document.activeElement as HTMLElement).getByTestId('row-name').textContent).toBe('Patient 99');
    expect(rows().length).toBeLessThan(60);
    expect((await screen.findByTestId('details-name')).textContent).toContain('Patient 99');
    // A hundred key presses through a 500-row list take seconds on a loaded machine.
  }, 30_000);
});

describe('start-up timing', () => {
  test('the shell is told once when the queue is first on screen', async () => {
    vi.useRealTimers();
    const { backend } = await renderConsole({
      queue: [row({ visit_id: 'v-1', patient_name: 'Maria Gonzalez' }), row({ visit_id: 'v-2', patient_name: 'Ahmed Khan' })],
    });
    await waitFor(() => expect(backend.callsTo('first_paint')).toHaveLength(1));
    expect(backend.callsTo('first_paint')[0].args).toEqual({ rows: 2 });
    backend.update((s) => {
      s.queue = [...s.queue];
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.callsTo('first_paint')).toHaveLength(1);
  });

  test('a new arrival is reported once its row is on screen, and only then', async () => {
    vi.useRealTimers();
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Maria Gonzalez' })] });
    await waitFor(() => expect(backend.callsTo('first_paint')).toHaveLength(1));
    expect(backend.callsTo('rows_painted')).toHaveLength(0);
    backend.update((s) => {
      s.queue = [...s.queue, row({ visit_id: 'v-2', patient_name: 'Kofi Mensah' })];
    });
    await waitFor(() => expect(backend.callsTo('rows_painted')).toHaveLength(1));
    expect(backend.callsTo('rows_painted')[0].args).toEqual({ visitIds: ['v-2'] });
    expect(document.querySelector('[data-visit-id="v-2"]')?.textContent).toContain('Kofi Mensah');
    backend.update((s) => {
      s.queue = [...s.queue];
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(backend.callsTo('rows_painted')).toHaveLength(1);
  });
});

/** Rendering under fake timers: flush the first load by hand (testing-library's waits poll on timers). */
async function renderWithFakeTimers(over: Parameters<typeof clinicState>[0]) {
  const { createMockBackend } = await import('../lib/mock');
  const { render } = await import('@testing-library/svelte');
  const App = (await import('../App.svelte')).default;
  const backend = createMockBackend(clinicState(over));
  const result = render(App, { props: { backend } });
  await vi.advanceTimersByTimeAsync(0);
  flushSync();
  return { backend, ...result };
}

