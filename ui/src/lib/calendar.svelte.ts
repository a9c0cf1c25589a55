// The Calendar workspace's screen state: which page is shown (day or week, whose sessions),
// the page as the console host laid it out, the session picked, and the booking form with the
// host's reading of it. Nothing here decides a rule: where a session sits, what is wrong with a
// form and what may be done to a session all come from the host (and through it the domain).

import { toBackendError, type Backend } from './backend';
import type { BookingForm, CalendarQuery, CalendarSession, CalendarView, FieldError, GuestForm } from './types';

/** Pixels per minute of the day grid (an hour is 60 px). */
export const PX_PER_MIN = 1;

/** A block shorter than this shows its start and guests on one line. */
export const COMPACT_BELOW_PX = 40;
/** A block shorter than this has no room for the provider's line. */
export const SHORT_BELOW_PX = 56;

/** Where a session's block goes in its day column: top and height in px from the grid's first hour. */
export function blockBox(s: Pick<CalendarSession, 'start_minute' | 'end_minute'>, firstHour: number) {
  const top = (s.start_minute - firstHour * 60) * PX_PER_MIN;
  // A very short session stays tall enough to read its time.
  const height = Math.max((s.end_minute - s.start_minute) * PX_PER_MIN, 22);
  return { top, height };
}

/** The grid's hour lines: first_hour … last_hour - 1. */
export function hours(view: Pick<CalendarView, 'first_hour' | 'last_hour'>): number[] {
  return Array.from({ length: Math.max(view.last_hour - view.first_hour, 0) }, (_, i) => view.first_hour + i);
}

export function emptyGuest(): GuestForm {
  return { first_name: '', last_name: '', contact_by: 'email', contact: '' };
}

export function emptyForm(date: string): BookingForm {
  return {
    provider: null,
    include_me: false,
    guests: [emptyGuest()],
    date,
    time: '09:00',
    duration_mins: 30,
    repeat_weeks: 1,
  };
}

/** What the queue hands the Calendar, taken up the next time it is shown: a booking form
 * ("Book the next appointment"), or a session to move ("Reschedule…"). */
export const handoff = $state<{ draft: BookingForm | null; move: string | null }>({ draft: null, move: null });

export class CalendarModel {
  query = $state<CalendarQuery>({ start_day: null, days: 7, provider: null, room: null, session: null });
  view = $state.raw<CalendarView | null>(null);
  error = $state<string | null>(null);
  selectedId = $state<string | null>(null);
  /** The booking form while it is open. */
  form = $state<BookingForm | null>(null);
  /** The host's reading of the form (or the server's refusal), by field. */
  errors = $state<FieldError[]>([]);
  sessionsToBook = $state<string[]>([]);
  /** A field the person has left (errors show for touched fields, and all after "Book"). */
  touched = $state<Record<string, boolean>>({});
  submitted = $state(false);
  busy = $state(false);
  notice = $state<string | null>(null);
  /** The move form of the selected session. */
  move = $state<{ date: string; time: string; duration_mins: number } | null>(null);
  moveErrors = $state<FieldError[]>([]);
  private checking = 0;

  constructor(private readonly backend: Backend) {}

  /** Takes up what the queue handed over: opens the form, or the session's page to move it. */
  async takeHandoff(): Promise<void> {
    if (handoff.move) {
      const id = handoff.move;
      handoff.move = null;
      this.query.start_day = null;
      this.query.session = id;
      await this.load();
      this.select(id);
      this.startMove();
    }
    if (handoff.draft) {
      this.openForm(handoff.draft);
      handoff.draft = null;
    }
  }

  selected = $derived(this.view?.sessions.find((s) => s.visit_id === this.selectedId) ?? null);

  async load(): Promise<void> {
    try {
      this.view = await this.backend.calendar($state.snapshot(this.query));
      this.error = null;
    } catch (err) {
      this.error = toBackendError(err).message;
    }
  }

  go(startDay: string | null): void {
    this.query.start_day = startDay;
    this.query.session = null;
    void this.load();
  }

  setDays(days: number): void {
    this.query.days = days;
    void this.load();
  }

  /** "provider:<id>", "room:<id>" or "" for every session. */
  setFilter(value: string): void {
    const [kind, id] = value.split(':');
    this.query.provider = kind === 'provider' ? id : null;
    this.query.room = kind === 'room' ? id : null;
    void this.load();
  }

  select(id: string | null): void {
    this.selectedId = id;
    this.move = null;
    this.moveErrors = [];
  }

  openForm(form?: BookingForm): void {
    const day = this.view?.days.find((d) => d.today)?.date ?? this.view?.days[0]?.date ?? '';
    this.form = form ?? emptyForm(day);
    this.touched = {};
    this.submitted = false;
    this.errors = [];
    this.sessionsToBook = [];
    this.selectedId = null;
    void this.check();
  }

  closeForm(): void {
    this.form = null;
  }

  touch(field: string): void {
    this.touched[field] = true;
  }

  /** Asks the host what it makes of the form as it is now; a later answer wins. */
  async check(): Promise<void> {
    if (!this.form) return;
    const n = ++this.checking;
    try {
      const answer = await this.backend.checkBooking($state.snapshot(this.form));
      if (n !== this.checking) return;
      this.errors = answer.errors;
      this.sessionsToBook = answer.sessions;
    } catch (err) {
      if (n === this.checking) this.errors = [{ field: 'form', message: toBackendError(err).message }];
    }
  }

  /** The error to show by a field now: once it was left, or after "Book". */
  errorFor(field: string): string | null {
    if (!this.submitted && !this.touched[field]) return null;
    return this.errors.find((e) => e.field === field)?.message ?? null;
  }

  async book(): Promise<void> {
    if (!this.form || this.busy) return;
    this.submitted = true;
    await this.check();
    if (this.errors.length) return;
    this.busy = true;
    try {
      const done = await this.backend.bookSession($state.snapshot(this.form));
      this.errors = done.errors;
      if (!done.errors.length) {
        const n = done.booked.length;
        this.notice = n === 1 ? 'Session booked. The guests are told by email or text.' : `${n} sessions booked. The guests are told by email or text.`;
        this.form = null;
        await this.load();
      }
    } catch (err) {
      this.errors = [{ field: 'form', message: toBackendError(err).message }];
    } finally {
      this.busy = false;
    }
  }

  startMove(): void {
    const s = this.selected;
    if (!s) return;
    this.move = { date: s.date, time: s.time, duration_mins: s.duration_mins };
    this.moveErrors = [];
  }

  async saveMove(): Promise<void> {
    const s = this.selected;
    if (!s || !this.move || this.busy) return;
    this.busy = true;
    try {
      const done = await this.backend.rescheduleSession(s.visit_id, this.move.date, this.move.time, this.move.duration_mins);
      this.moveErrors = done.errors;
      if (!done.errors.length) {
        this.move = null;
        this.notice = 'Session moved. The guests and the provider are told.';
      }
    } catch (err) {
      this.moveErrors = [{ field: 'form', message: toBackendError(err).message }];
    } finally {
      this.busy = false;
    }
  }

  moveError(): string | null {
    return this.moveErrors.map((e) => e.message).join('; ') || null;
  }
}
