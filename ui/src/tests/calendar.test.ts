// The Calendar workspace on the mock backend: the week as the console host laid it out (each
// session in its column at its minutes, the current time line), the booking form showing the
// host's reading of it by field as it is typed, the server's refusal by its field, moving and
// taking a session, and "Book the next appointment" from the queue.
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, test } from 'vitest';
import { renderAs, renderConsole, row } from './helpers';
import { PX_PER_MIN, blockBox, hours } from '../lib/calendar.svelte';
import type { BookingForm, CalendarSession, CalendarView, FieldError } from '../lib/types';
import { engine, staffId } from '../fixtures/engine';

const PRIYA = { id: staffId('provider'), name: 'Dr Amir Lee' };

function session(over: Partial<CalendarSession> & Pick<CalendarSession, 'visit_id'>): CalendarSession {
  return {
    version: 1,
    status: 'scheduled',
    room_name: "Dr Lee's room",
    provider: PRIYA,
    staff: [],
    guests: [{ name: 'Ana Guest', reached_by: 'ana@example.org', arrived: false }],
    starts_at: 0,
    duration_mins: 30,
    day: 0,
    start_minute: 9 * 60,
    end_minute: 9 * 60 + 30,
    time_label: '09:00–09:30',
    date: '2026-12-07',
    time: '09:00',
    allowed: ['assign', 'cancel', 'mark_no_show', 'reschedule'],
    takes_session: false,
    ...over,
  };
}

function week(sessions: CalendarSession[], over: Partial<CalendarView> = {}): CalendarView {
  const labels = ['Mon 7 Dec', 'Tue 8 Dec', 'Wed 9 Dec', 'Thu 10 Dec', 'Fri 11 Dec', 'Sat 12 Dec', 'Sun 13 Dec'];
  return {
    title: '7 – 13 December 2026',
    time_zone: 'Europe/London',
    days: labels.map((label, i) => ({ date: `2026-12-${String(7 + i).padStart(2, '0')}`, label, today: i === 2 })),
    first_hour: 7,
    last_hour: 19,
    sessions,
    now_line: { day: 2, minute: 10 * 60 + 30 },
    previous: '2026-11-30',
    next: '2026-12-14',
    providers: [PRIYA],
    rooms: [],
    can_book: true,
    ...over,
  };
}

async function openCalendar(view: CalendarView, options: Parameters<typeof renderAs>[1] = {}) {
  const rendered = await renderAs('scheduler', { calendar: view, ...options });
  await fireEvent.click(screen.getByTestId('workspace-calendar'));
  await screen.findByTestId('calendar-grid');
  return rendered;
}

describe('the week layout', () => {
  test('a block sits at its minutes from the first hour, and a short one stays readable', () => {
    expect(blockBox({ start_minute: 9 * 60 + 30, end_minute: 10 * 60 + 15 }, 7)).toEqual({
      top: 150 * PX_PER_MIN,
      height: 45 * PX_PER_MIN,
    });
    expect(blockBox({ start_minute: 8 * 60, end_minute: 8 * 60 + 5 }, 7).height).toBe(22);
    expect(hours({ first_hour: 7, last_hour: 10 })).toEqual([7, 8, 9]);
  });

  test('each session is in the column the host gave it, with its guests, and now is a line on today', async () => {
    await openCalendar(
      week([
        session({ visit_id: 'v1', day: 1, guests: [
          { name: 'Ana Guest', reached_by: 'ana@example.org', arrived: false },
          { name: 'Ben Guest', reached_by: 'SMS +61400111222', arrived: false },
        ] }),
        session({ visit_id: 'v2', day: 4, start_minute: 14 * 60, end_minute: 15 * 60, time_label: '14:00–15:00' }),
      ]),
    );
    expect(screen.getByTestId('calendar-title').textContent).toBe('7 – 13 December 2026');
    const columns = screen.getAllByTestId('day-column');
    expect(columns).toHaveLength(7);
    const inColumn = (i: number) => within(columns[i]).queryAllByTestId('calendar-session').map((b) => b.dataset.visitId);
    expect(inColumn(1)).toEqual(['v1']);
    expect(inColumn(4)).toEqual(['v2']);
    expect(within(columns[1]).getByTestId('session-guests').textContent).toBe('Ana Guest, Ben Guest');
    const v2 = within(columns[4]).getByTestId('calendar-session');
    expect(v2.style.top).toBe(`${7 * 60 * PX_PER_MIN}px`);
    expect(v2.style.height).toBe(`${60 * PX_PER_MIN}px`);
    expect(within(columns[2]).getByTestId('now-line').style.top).toBe(`${210 * PX_PER_MIN}px`);
    expect(screen.getAllByTestId('now-line')).toHaveLength(1);
  });

  test('the next week and a provider filter ask the host again', async () => {
    const { backend } = await openCalendar(week([]));
    await fireEvent.click(screen.getByTestId('calendar-next'));
    await waitFor(() => expect(backend.callsTo('calendar').at(-1)?.args).toEqual({
      query: { start_day: '2026-12-14', days: 7, provider: null, room: null, session: null },
    }));
    await fireEvent.change(screen.getByTestId('calendar-filter'), { target: { value: `provider:${PRIYA.id}` } });
    await waitFor(() => expect((backend.callsTo('calendar').at(-1)?.args?.query as { provider: string }).provider).toBe(PRIYA.id));
    await fireEvent.click(screen.getByTestId('calendar-day'));
    await waitFor(() => expect((backend.callsTo('calendar').at(-1)?.args?.query as { days: number }).days).toBe(1));
  });

  test('a provider who may not book sees no booking button', async () => {
    await openCalendar(week([], { can_book: false }));
    expect(screen.queryByTestId('book-session')).toBeNull();
  });
});

/** The host's reading: what it says of the form as typed (the test stands in for the domain). */
function host(form: BookingForm): { errors: FieldError[]; sessions: string[] } {
  const errors: FieldError[] = [];
  if (!form.provider) errors.push({ field: 'provider', message: 'choose a provider' });
  form.guests.forEach((g, i) => {
    if (!g.first_name.trim()) errors.push({ field: `guests.${i}.first_name`, message: 'must not be empty' });
    if (!g.contact.includes('@')) errors.push({ field: `guests.${i}.contact`, message: 'give an email address' });
  });
  return { errors, sessions: errors.length ? [] : ['Monday 7 December, 09:00', 'Monday 14 December, 09:00'] };
}

describe('the booking form', () => {
  test('every change is read by the host and its errors show by the fields once left', async () => {
    const { backend } = await openCalendar(week([]), { checkBooking: (f) => ({ errors: host(f).errors, sessions: host(f).sessions }) });
    await fireEvent.click(screen.getByTestId('book-session'));
    await screen.findByTestId('booking-form');
    // Nothing is shown before a field is left.
    await waitFor(() => expect(backend.callsTo('check_booking').length).toBeGreaterThan(0));
    expect(screen.queryByTestId('error-provider')).toBeNull();

    await fireEvent.blur(screen.getByTestId('guest-first-name'));
    expect((await screen.findByTestId('error-guests.0.first_name')).textContent).toBe('must not be empty');
    await fireEvent.input(screen.getByTestId('guest-first-name'), { target: { value: 'Ana' } });
    await waitFor(() => expect(screen.queryByTestId('error-guests.0.first_name')).toBeNull());
    const sent = backend.callsTo('check_booking').at(-1)!.args!.form as BookingForm;
    expect(sent.guests[0].first_name).toBe('Ana');

    // "Book" shows every error left, and sends nothing.
    await fireEvent.click(screen.getByTestId('booking-submit'));
    expect((await screen.findByTestId('error-provider')).textContent).toBe('choose a provider');
    expect(screen.getByTestId('error-guests.0.contact').textContent).toBe('give an email address');
    expect(backend.callsTo('book_session')).toHaveLength(0);
  });

  test('a good form books, says how many sessions, and a refusal shows by its field', async () => {
    let refuse = true;
    const { backend } = await openCalendar(week([]), {
      checkBooking: (f) => host(f),
      bookSession: () =>
        refuse
          ? { errors: [{ field: 'starts_at', message: 'must be within 2 years from now' }], booked: [] }
          : { errors: [], booked: ['v1', 'v2'] },
    });
    await fireEvent.click(screen.getByTestId('book-session'));
    await screen.findByTestId('booking-form');
    await fireEvent.change(screen.getByTestId('booking-provider'), { target: { value: PRIYA.id } });
    await fireEvent.input(screen.getByTestId('guest-first-name'), { target: { value: 'Ana' } });
    await fireEvent.input(screen.getByTestId('guest-last-name'), { target: { value: 'Guest' } });
    await fireEvent.input(screen.getByTestId('guest-contact'), { target: { value: 'ana@example.org' } });
    await fireEvent.input(screen.getByTestId('booking-repeat'), { target: { value: '2' } });
    expect((await screen.findByTestId('booking-summary')).textContent).toContain('Books 2 sessions');

    await fireEvent.click(screen.getByTestId('booking-submit'));
    expect((await screen.findByTestId('error-starts_at')).textContent).toBe('must be within 2 years from now');
    const form = backend.callsTo('book_session')[0].args!.form as BookingForm;
    expect(form.provider).toBe(PRIYA.id);
    expect(form.repeat_weeks).toBe(2);
    expect(form.guests[0]).toEqual({ first_name: 'Ana', last_name: 'Guest', contact_by: 'email', contact: 'ana@example.org' });

    refuse = false;
    await fireEvent.click(screen.getByTestId('booking-submit'));
    expect((await screen.findByTestId('calendar-notice')).textContent).toContain('2 sessions booked');
    expect(screen.queryByTestId('booking-form')).toBeNull();
  });
});

describe('a booked session', () => {
  test('is moved with the date, time and length typed, and a provider takes one as theirs', async () => {
    const { backend } = await openCalendar(week([session({ visit_id: 'v1', takes_session: true })]));
    await fireEvent.click(screen.getByTestId('calendar-session'));
    const panel = await screen.findByTestId('session-panel');
    expect(within(panel).getByTestId('session-guest').textContent).toContain('ana@example.org');
    await fireEvent.click(within(panel).getByTestId('reschedule'));
    await fireEvent.input(screen.getByTestId('move-time'), { target: { value: '11:15' } });
    await fireEvent.click(screen.getByTestId('move-save'));
    await waitFor(() => expect(backend.callsTo('reschedule_session')).toHaveLength(1));
    expect(backend.callsTo('reschedule_session')[0].args).toEqual({
      visitId: 'v1',
      date: '2026-12-07',
      time: '11:15',
      durationMins: 30,
    });
    await fireEvent.click(screen.getByTestId('take-session'));
    const me = backend.current().me!.id;
    await waitFor(() =>
      expect(backend.callsTo('act').at(-1)?.args).toEqual({ visitId: 'v1', command: { command: 'assign', provider: me, note: null } }),
    );
  });

  test('offers only what the domain allows', async () => {
    await openCalendar(week([session({ visit_id: 'v1', allowed: ['assign'] })]));
    await fireEvent.click(screen.getByTestId('calendar-session'));
    const panel = await screen.findByTestId('session-panel');
    expect(within(panel).queryByTestId('reschedule')).toBeNull();
    expect(within(panel).queryByTestId('cancel-session')).toBeNull();
  });
});

describe('from the queue', () => {
  test("a session's Reschedule opens it in the Calendar, on its own page, ready to move", async () => {
    const id = engine.visits.scheduled.id;
    const { backend } = await renderAs('scheduler', { calendar: week([session({ visit_id: id })]) });
    await fireEvent.click(screen.getByTestId('tab-sessions'));
    await fireEvent.click(screen.getAllByTestId('session-row').find((r) => r.dataset.visitId === id)!);
    await fireEvent.click(await screen.findByTestId('action-reschedule'));
    const panel = await screen.findByTestId('session-panel');
    expect(panel.dataset.visitId).toBe(id);
    expect(within(panel).getByTestId('move-form')).toBeTruthy();
    expect(backend.callsTo('calendar').some((c) => (c.args?.query as { session: string }).session === id)).toBe(true);
  });
});

describe('book the next appointment', () => {
  test('from a patient with reception opens the booking form with them as the guest', async () => {
    const prefilled: BookingForm = {
      provider: PRIYA.id,
      include_me: false,
      guests: [{ first_name: 'Mia', last_name: 'Kovac', contact_by: 'sms', contact: '+61400111333' }],
      date: '2026-12-14',
      time: '10:00',
      duration_mins: 30,
      repeat_weeks: 1,
    };
    const { backend } = await renderConsole(
      {
        queue: [row({ visit_id: 'v-mia', patient_name: 'Mia Kovac', status: 'on_hold' })],
        me: { ...(await import('../fixtures/engine')).consoleOf('scheduler').me!, workspaces: ['queue', 'calendar'] },
      },
      { calendar: week([]), nextAppointment: prefilled },
    );
    await fireEvent.click(screen.getByTestId('queue-row'));
    await fireEvent.click(await screen.findByTestId('book-next'));
    await waitFor(() => expect(backend.callsTo('next_appointment')[0]?.args).toEqual({ visitId: 'v-mia' }));
    const form = await screen.findByTestId('booking-form');
    expect((within(form).getByTestId('guest-first-name') as HTMLInputElement).value).toBe('Mia');
    expect((within(form).getByTestId('guest-contact') as HTMLInputElement).value).toBe('+61400111333');
    expect((within(form).getByTestId('guest-contact-by') as HTMLSelectElement).value).toBe('sms');
  });
});
