// The day view and the connection: who finished today, with their wait and who saw them; the
// offline banner's "Reconnect now"; an availability change waiting to send is marked.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { consoleOf } from '../fixtures/engine';
import { clinicState, renderConsole, row } from './helpers';
import App from '../App.svelte';
import { createMockBackend } from '../lib/mock';
import type { AppState, DayRow } from '../lib/types';

const at = (h: number, m: number) => new Date(2026, 11, 3, h, m).getTime();

function dayRow(over: Partial<DayRow> & Pick<DayRow, 'visit_id' | 'patient_name'>): DayRow {
  return {
    ...row({ status: 'completed', ...over }),
    status: over.status ?? 'completed',
    allowed: [],
    finished_at: over.finished_at ?? at(10, 30),
    seen_by: over.seen_by ?? [],
    ...over,
  } as DayRow;
}

describe('the day view', () => {
  test('lists who finished today with their wait, times and who saw them; a row opens their details', async () => {
    const priya = { id: 'staff-priya', name: 'Dr. Priya Shah' };
    await renderConsole({
      today: [
        dayRow({
          visit_id: 'v-ana',
          patient_name: 'Ana Pereira',
          arrived_at: at(9, 50),
          finished_at: at(10, 30),
          total_waited: 12 * 60_000 + 5_000,
          seen_by: [priya],
        }),
        dayRow({ visit_id: 'v-ben', patient_name: 'Ben Okoro', status: 'left', total_waited: 40_000 }),
      ],
    });
    const tab = screen.getByTestId('tab-today');
    expect(tab.textContent).toContain('2');
    await fireEvent.click(tab);
    const rows = await screen.findAllByTestId('day-row');
    expect(rows.map((r) => within(r).getByTestId('day-name').textContent)).toEqual(['Ana Pereira', 'Ben Okoro']);
    const ana = rows[0];
    expect(within(ana).getByTestId('day-wait').textContent).toContain('Waited 12m 05s');
    expect(within(ana).getByTestId('day-arrived').textContent).toContain('09:50');
    expect(within(ana).getByTestId('day-finished').textContent).toContain('10:30');
    expect(within(ana).getByTestId('day-seen-by').textContent).toContain('Dr. Priya Shah');
    expect(within(rows[1]).getByTestId('day-seen-by').textContent).toContain('not seen');
    expect(rows[1].dataset.status).toBe('left');

    await fireEvent.click(ana);
    const details = await screen.findByTestId('details');
    expect(within(details).getByTestId('details-name').textContent).toBe('Ana Pereira');
  });

  test('says so when no one has finished yet', async () => {
    await renderConsole();
    await fireEvent.click(screen.getByTestId('tab-today'));
    expect(screen.getByTestId('empty-list').textContent).toContain('No one has finished today yet');
  });
});

describe('the connection', () => {
  test('offline, the banner offers Reconnect now, which asks the shell to try at once', async () => {
    const { backend } = await renderConsole({ connection: { state: 'offline', pending: 0, since: at(10, 0) } });
    const banner = screen.getByTestId('connection-banner');
    await fireEvent.click(within(banner).getByTestId('reconnect-now'));
    expect(backend.callsTo('reconnect_now')).toHaveLength(1);
  });

  test('online, there is nothing to reconnect', async () => {
    await renderConsole({ connection: { state: 'online', pending: 0 } });
    expect(screen.queryByTestId('reconnect-now')).toBeNull();
  });

  test('an availability change not yet confirmed is marked as not sent', async () => {
    const me = consoleOf('receptionist').me!;
    const { backend } = await renderConsole({ me: { ...me, availability_pending: false } });
    expect(screen.queryByTestId('availability-pending')).toBeNull();
    backend.update((s) => {
      s.me = { ...s.me!, availability: 'unavailable', availability_pending: true };
      s.connection = { state: 'offline', pending: 1 };
    });
    await waitFor(() => expect(screen.getByTestId('availability-pending').textContent).toContain('Not sent yet'));
    expect(screen.getByTestId('connection-banner').textContent).toContain('1 action waiting to send');
  });
});

describe('start-up', () => {
  test('the loading page says what start-up is doing (the demo seeding its clinic)', async () => {
    const backend = createMockBackend(clinicState());
    let release: (s: AppState) => void = () => {};
    backend.appState = () => new Promise<AppState>((resolve) => (release = resolve));
    backend.startProgress = async () => 'Seeding the demo clinic: rooms, staff and this morning’s patients…';
    render(App, { props: { backend } });
    expect((await screen.findByTestId('start-progress')).textContent).toContain('Seeding the demo clinic');
    release(clinicState());
    await screen.findByTestId('clinic-name');
    expect(screen.queryByTestId('start-progress')).toBeNull();
  });
});
