// The Admin workspace's forms: a room or a person as the admin edits them, turned into what the
// clinic API takes (NewRoom, NewStaff, StaffChange, generated from the Rust types), and the
// problems shown as they type. These checks only catch typing slips early (an empty name, a
// time that is not HH:MM); the server decides, and its refusal is shown beside the field it
// names.

import type {
  AfterHours,
  BackendError,
  HoursPreview,
  IntakeQuestion,
  NewRoom,
  NewStaff,
  QuestionKind,
  RoomInfo,
  StaffInfo,
} from './types';

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
export const WEEKDAY_SHORT = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export const QUESTION_KIND_LABEL: Record<QuestionKind, string> = {
  text: 'Free text',
  choice: 'One of a list',
  yes_no: 'Yes or no',
};

export const AFTER_HOURS_LABEL: Record<AfterHours, string> = {
  refuse: 'Say the clinic is closed and take no one',
  accept: 'Say the clinic is closed but let patients wait (marked after hours)',
};

export const ROLE_LABEL: Record<string, string> = {
  admin: 'Admin',
  receptionist: 'Reception',
  provider: 'Provider',
  scheduler: 'Scheduler',
};

export interface HoursSpan {
  opens: string;
  closes: string;
}

export interface QuestionDraft {
  label: string;
  kind: QuestionKind;
  /** A choice question's options, one per line. */
  options: string;
}

export interface RoomDraft {
  name: string;
  /** Index 0 = Monday; no spans = closed that day. */
  days: HoursSpan[][];
  afterHours: AfterHours;
  emergencyInfo: string;
  waitingMessage: string;
  questions: QuestionDraft[];
  showPlaceInLine: boolean;
  minutesPerPatient: string;
  provider: string | null;
}

/** Problems by field: `name`, `office_hours`, `intake_questions`, `minutes_per_patient`, ... */
export type Problems = Record<string, string>;

export function emptyRoom(): RoomDraft {
  return {
    name: '',
    days: WEEKDAYS.map((_, i) => (i < 5 ? [{ opens: '09:00', closes: '17:00' }] : [])),
    afterHours: 'refuse',
    emergencyInfo: '',
    waitingMessage: '',
    questions: [],
    showPlaceInLine: false,
    minutesPerPatient: '',
    provider: null,
  };
}

function questionOf(q: IntakeQuestion): QuestionDraft {
  if (typeof q === 'string') return { label: q, kind: 'text', options: '' };
  return { label: q.label, kind: q.kind, options: (q.options ?? []).join('\n') };
}

export function roomDraftOf(room: RoomInfo): RoomDraft {
  return {
    name: room.name,
    days: WEEKDAYS.map((_, day) =>
      room.office_hours.filter((h) => h.day === day).map((h) => ({ opens: h.opens, closes: h.closes })),
    ),
    afterHours: room.after_hours ?? 'refuse',
    emergencyInfo: room.emergency_info ?? '',
    waitingMessage: room.waiting_message ?? '',
    questions: room.intake_questions.map(questionOf),
    showPlaceInLine: room.show_place_in_line ?? false,
    minutesPerPatient: room.minutes_per_patient == null ? '' : String(room.minutes_per_patient),
    provider: room.provider ?? null,
  };
}

const optionsOf = (q: QuestionDraft) =>
  q.options
    .split('\n')
    .map((o) => o.trim())
    .filter((o) => o !== '');

export function officeHoursOf(draft: RoomDraft): NewRoom['office_hours'] {
  return draft.days.flatMap((spans, day) => spans.map((s) => ({ day, opens: s.opens.trim(), closes: s.closes.trim() })));
}

/** What `save_room` sends. */
export function newRoomOf(draft: RoomDraft): NewRoom {
  const minutes = draft.minutesPerPatient.trim();
  return {
    name: draft.name.trim(),
    provider: draft.provider ?? undefined,
    office_hours: officeHoursOf(draft),
    emergency_info: draft.emergencyInfo.trim() || undefined,
    waiting_message: draft.waitingMessage.trim() || undefined,
    intake_questions: draft.questions.map((q): IntakeQuestion => {
      const label = q.label.trim();
      if (q.kind === 'text') return label;
      return q.kind === 'choice' ? { label, kind: q.kind, options: optionsOf(q) } : { label, kind: q.kind };
    }),
    after_hours: draft.afterHours,
    show_place_in_line: draft.showPlaceInLine,
    minutes_per_patient: minutes === '' ? undefined : Number(minutes),
  };
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Slips to show as the admin types (the server's refusal replaces them on save). */
export function roomProblems(draft: RoomDraft): Problems {
  const p: Problems = {};
  if (draft.name.trim() === '') p.name = 'Give the room a name.';
  else if (draft.name.trim().length > 120) p.name = 'At most 120 characters.';
  draft.days.forEach((spans, day) => {
    for (const s of spans) {
      if (!HHMM.test(s.opens.trim()) || !HHMM.test(s.closes.trim())) {
        p.office_hours ??= `${WEEKDAYS[day]}: write times as HH:MM, e.g. 09:00.`;
      } else if (s.opens.trim() >= s.closes.trim()) {
        p.office_hours ??= `${WEEKDAYS[day]}: the hours must close after they open.`;
      }
    }
  });
  const seen = new Set<string>();
  draft.questions.forEach((q, i) => {
    const label = q.label.trim();
    if (label === '') p.intake_questions ??= `Question ${i + 1} needs its wording.`;
    else if (seen.has(label.toLowerCase())) p.intake_questions ??= `"${label}" is asked twice.`;
    else if (q.kind === 'choice' && optionsOf(q).length < 2)
      p.intake_questions ??= `"${label}" needs at least two options, one per line.`;
    seen.add(label.toLowerCase());
  });
  const minutes = draft.minutesPerPatient.trim();
  if (minutes !== '' && !(/^\d+$/.test(minutes) && Number(minutes) >= 1 && Number(minutes) <= 240)) {
    p.minutes_per_patient = 'Minutes from 1 to 240, or leave it empty.';
  }
  return p;
}

export interface StaffDraft {
  name: string;
  email: string;
  phone: string;
  roles: string[];
  rooms: string[];
  allRooms: boolean;
  password: string;
  pin: string;
}

export function emptyStaff(): StaffDraft {
  return { name: '', email: '', phone: '', roles: ['receptionist'], rooms: [], allRooms: false, password: '', pin: '' };
}

/** What `invite_staff` sends. */
export function newStaffOf(draft: StaffDraft): NewStaff {
  return {
    name: draft.name.trim(),
    email: draft.email.trim(),
    roles: draft.roles as NewStaff['roles'],
    password: draft.password,
    pin: draft.pin.trim() === '' ? undefined : draft.pin.trim(),
    rooms: draft.rooms,
    all_rooms: draft.allRooms,
    phone: draft.phone.trim() === '' ? undefined : draft.phone.trim(),
  };
}

export function staffProblems(draft: StaffDraft, inviting: boolean): Problems {
  const p: Problems = {};
  if (draft.name.trim() === '') p.name = 'Give their name.';
  if (inviting) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(draft.email.trim())) p.email = 'An email address such as name@clinic.org.';
    if (draft.password.length < 8) p.password = 'At least 8 characters.';
    if (draft.pin.trim() !== '' && !/^\d{4,8}$/.test(draft.pin.trim())) p.pin = 'A PIN is 4 to 8 digits.';
  }
  if (draft.roles.length === 0) p.roles = 'Give at least one role.';
  return p;
}

export function staffDraftOf(s: StaffInfo): StaffDraft {
  return {
    name: s.name,
    email: s.email,
    phone: s.phone ?? '',
    roles: [...s.roles],
    rooms: [...s.rooms],
    allRooms: s.all_rooms ?? false,
    password: '',
    pin: '',
  };
}

/** A server refusal placed on the form: beside the field it names, or above the buttons. */
export function placeRefusal(err: BackendError, fields: string[]): { problems: Problems; general: string | null } {
  if (err.field && fields.includes(err.field)) return { problems: { [err.field]: err.message }, general: null };
  return { problems: {}, general: err.message };
}

/** "Open now", or "Closed now — opens tomorrow at 09:00", in the clinic's time zone. */
export function previewText(p: HoursPreview): string {
  if (p.open) return 'Open now';
  return p.reopens ? `Closed now — opens ${p.reopens}` : 'Closed now — no opening hours set';
}

/** Hours in a line for the room list: "Mon–Fri 09:00–17:00", or "Always open". */
export function hoursSummary(room: RoomInfo): string {
  if (room.office_hours.length === 0) return 'Always open (no office hours)';
  const byDay = WEEKDAYS.map((_, d) =>
    room.office_hours
      .filter((h) => h.day === d)
      .map((h) => `${h.opens}–${h.closes}`)
      .join(', '),
  );
  const parts: string[] = [];
  let start = 0;
  for (let d = 1; d <= 7; d++) {
    if (d === 7 || byDay[d] !== byDay[start]) {
      if (byDay[start] !== '') {
        const days = d - 1 === start ? WEEKDAY_SHORT[start] : `${WEEKDAY_SHORT[start]}–${WEEKDAY_SHORT[d - 1]}`;
        parts.push(`${days} ${byDay[start]}`);
      }
      start = d;
    }
  }
  return parts.join(' · ');
}

/** When something happened, from `now`: "just now", "12 min ago", "3 h ago", or the date. */
export function whenText(at: number, now: number): string {
  const min = Math.round((now - at) / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  if (min < 24 * 60) return `${Math.round(min / 60)} h ago`;
  return new Date(at).toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}
