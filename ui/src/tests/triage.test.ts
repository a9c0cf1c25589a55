// The queue built for triage, as a receptionist reads it: the engine's Waiting section (total
// wait as the big figure, the current stretch beside it) then With staff, search by name, the
// status filter, the `/` and `?` keys, and, in a call, "Open call" and "Copy link".
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { engine, roomId, visitId } from '../fixtures/engine';
import { actCommands, recordedRow, renderAs, renderConsole, row } from './helpers';

afterEach(() => {
  vi.restoreAllMocks();
});

const rows = () => screen.queryAllByTestId('queue-row');
const names = () => rows().map((r) => within(r).getByTestId('row-name').textContent);
const rowOf = (key: Parameters<typeof visitId>[0]) => rows().find((r) => r.dataset.visitId === visitId(key))!;
const sectionCount = (id: string) => within(screen.getByTestId(`section-${id}`)).getByTestId('section-count').textContent;

describe('the queue in two sections', () => {
  test('Waiting first, in the engine’s order, then With staff; the room on every row', async () => {
    await renderAs('receptionist');
    const queue = engine.people.receptionist.view.queue;
    const waiting = queue.filter((r) => r.section === 'waiting').map((r) => r.patient_name);
    const withStaff = queue.filter((r) => r.section === 'with_staff').map((r) => r.patient_name);
    expect(names()).toEqual([...waiting, ...withStaff]);
    expect(sectionCount('waiting')).toBe(String(waiting.length));
    expect(sectionCount('with_staff')).toBe(String(withStaff.length));
    // The headings sit where the sections start.
    const list = screen.getByTestId('queue-list');
    const order = [...list.children].map((el) => (el as HTMLElement).dataset.testid ?? (el as HTMLElement).dataset.itemKey);
    expect(order.indexOf('section-waiting')).toBe(0);
    expect(order.indexOf('section-with_staff')).toBe(1 + waiting.length);
    for (const r of rows()) expect(within(r).getByTestId('row-room').textContent).not.toBe('');
  });

  test('the total wait is the big figure and the current stretch the second', async () => {
    await renderAs('receptionist');
    // Tom waited 11 minutes before Dr Lee saw him, and has been on hold for 7 since.
    const tom = rowOf('on_hold');
    expect(tom.dataset.section).toBe('with_staff');
    expect(within(tom).getByTestId('row-total-wait').textContent).toMatch(/^18m \d\ds$/);
    expect(within(tom).getByTestId('row-stretch').textContent).toMatch(/this stretch 7m \d\ds/);
    expect(within(tom).getByTestId('row-wait').textContent).toContain('on hold');
    // A patient who has not left the waiting area has one figure: the stretch is the total.
    const maria = rowOf('waiting');
    expect(within(maria).getByTestId('row-total-wait').textContent).toMatch(/^\d+m \d\ds$/);
    expect(within(maria).queryByTestId('row-stretch')).toBeNull();
    // In a call, the row counts the call's time instead.
    const fatima = rowOf('in_call');
    expect(within(fatima).getByTestId('row-call-timer').textContent).toMatch(/^15m \d\ds$/);
    expect(within(fatima).getByTestId('row-wait').textContent).toContain('in call');
  });
});

describe('search and filters', () => {
  test('search by name narrows both sections; Esc clears it', async () => {
    await renderConsole({
      queue: [
        row({ visit_id: 'v-1', patient_name: 'José Álvarez', waiting_since: Date.now() - 60_000 }),
        row({ visit_id: 'v-2', patient_name: 'Joseph Kim', waiting_since: Date.now() - 30_000 }),
        row({ visit_id: 'v-3', patient_name: 'Ana Pereira', waiting_since: Date.now() - 20_000 }),
        row({ visit_id: 'v-4', patient_name: 'Josie Held', status: 'on_hold', section: 'with_staff' }),
      ],
    });
    const search = screen.getByTestId('queue-search') as HTMLInputElement;
    await fireEvent.input(search, { target: { value: 'jose' } });
    expect(names()).toEqual(['José Álvarez', 'Joseph Kim']);
    expect(sectionCount('waiting')).toBe('2');
    expect(sectionCount('with_staff')).toBe('0');
    await fireEvent.input(search, { target: { value: 'JOSI' } });
    expect(names()).toEqual(['Josie Held']);
    await fireEvent.input(search, { target: { value: 'nobody' } });
    expect(screen.getByTestId('empty-list').textContent).toContain('No one in the queue matches');
    await fireEvent.keyDown(search, { key: 'Escape' });
    expect(search.value).toBe('');
    expect(names()).toHaveLength(4);
  });

  test('the / key focuses the search box, and typing there is not a shortcut', async () => {
    const { backend } = await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Carla Mendes' })] });
    await fireEvent.keyDown(window, { key: '/' });
    const search = screen.getByTestId('queue-search');
    await waitFor(() => expect(document.activeElement).toBe(search));
    await fireEvent.keyDown(search, { key: 'c' });
    expect(actCommands(backend)).toEqual([]);
  });

  test('the status filter keeps one status', async () => {
    await renderAs('receptionist');
    const filter = screen.getByTestId('status-filter') as HTMLSelectElement;
    await fireEvent.change(filter, { target: { value: 'on_hold' } });
    expect(names()).toEqual(['Tom Becker']);
    expect(sectionCount('waiting')).toBe('0');
    await fireEvent.change(filter, { target: { value: 'intake' } });
    expect(names()).toEqual(['Chen Wei']);
    await fireEvent.click(screen.getByTestId('clear-filters'));
    expect(names()).toHaveLength(5);
  });
});

describe('all rooms', () => {
  test('reception sees its own rooms, and every room when it asks', async () => {
    await renderConsole({
      queue: [
        row({ visit_id: 'v-1', patient_name: 'At reception', waiting_since: Date.now() - 90_000 }),
        row({
          visit_id: 'v-2',
          patient_name: 'In Dr Lee’s room',
          room_id: roomId('lee_room'),
          room_name: "Dr Lee's room",
          in_my_rooms: false,
          waiting_since: Date.now() - 60_000,
        }),
      ],
    });
    expect(names()).toEqual(['At reception']);
    const filter = screen.getByTestId('room-filter') as HTMLSelectElement;
    expect([...filter.options].slice(0, 2).map((o) => o.textContent)).toEqual(['My rooms (1)', 'All rooms (2)']);
    await fireEvent.change(filter, { target: { value: 'all' } });
    expect(names()).toEqual(['At reception', 'In Dr Lee’s room']);
    expect(rows().map((r) => within(r).getByTestId('row-room').textContent)).toEqual(['Reception', "Dr Lee's room"]);
    await fireEvent.change(filter, { target: { value: roomId('lee_room') } });
    expect(names()).toEqual(['In Dr Lee’s room']);
  });
});

describe('keyboard shortcuts', () => {
  test('? lists them; Esc closes the list', async () => {
    await renderConsole({ queue: [row({ visit_id: 'v-1', patient_name: 'Carla Mendes' })] });
    await fireEvent.keyDown(window, { key: '?' });
    const dialog = await screen.findByTestId('keys-dialog');
    const text = within(dialog).getByTestId('keys-list').textContent ?? '';
    for (const words of ['Search the queue by name', 'Claim the selected patient', 'Write a message']) {
      expect(text).toContain(words);
    }
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByTestId('keys-dialog')).toBeNull());
    await fireEvent.click(screen.getByTestId('open-keys'));
    expect(await screen.findByTestId('keys-dialog')).toBeTruthy();
  });
});

describe('the call', () => {
  test('someone in the call opens it, or copies its link, from the row', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const { backend } = await renderAs('second_provider');
    const fatima = rowOf('in_call');
    const link = recordedRow('second_provider', 'in_call').call_link;
    expect(link).toMatch(/^https:\/\/video\.harbour\.test\/harbour\//);
    await fireEvent.click(within(fatima).getByTestId('row-open-call'));
    await waitFor(() => expect(backend.callsTo('open_call')).toHaveLength(1));
    expect(backend.callsTo('open_call')[0].args).toEqual({ visitId: visitId('in_call') });
    await fireEvent.click(within(fatima).getByTestId('row-copy-link'));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(link));
    expect(within(fatima).getByTestId('row-copy-link').textContent).toBe('Copied');
  });

  test('not in the call: no link, nothing to open; claiming brings it', async () => {
    await renderAs('receptionist', { confirmAfterMs: 0 });
    expect(within(rowOf('in_call')).queryByTestId('row-open-call')).toBeNull();
    const waiting = rowOf('waiting');
    expect(within(waiting).queryByTestId('row-open-call')).toBeNull();
    await fireEvent.click(waiting);
    await fireEvent.click(await screen.findByTestId('action-claim'));
    const open = await within(rowOf('waiting')).findByTestId('row-open-call');
    expect(rowOf('waiting').dataset.section).toBe('with_staff');
    expect(open.textContent).toBe('Open call');
    expect((screen.getByTestId('details-call-link') as HTMLInputElement).value).toMatch(/^https:\/\/video\.harbour\.test\//);
  });
});
