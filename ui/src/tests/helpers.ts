// What the UI tests share: the console rendered on the mock backend, starting from the real
// engine's recorded answers (src/fixtures/engine.json), and rows made from recorded ones.
import { render, screen } from '@testing-library/svelte';
import App from '../App.svelte';
import { answersOf, consoleOf, engine, staffId, type PersonKey, type VisitKey } from '../fixtures/engine';
import { createMockBackend, type MockOptions } from '../lib/mock';
import type { AppState, Command, QueueRow, Status } from '../lib/types';

export const BASE = Date.UTC(2026, 10, 21, 9, 30, 0);
export const MIN = 60_000;

export const ROSA = { id: staffId('receptionist'), name: 'Rosa Martinez' };
export const LEE = { id: staffId('provider'), name: 'Dr Amir Lee' };
export const OKAFOR = { id: staffId('second_provider'), name: 'Dr Sara Okafor' };

/** A visit of the recorded clinic in each open status (reception sees them all). */
const IN_STATUS: Partial<Record<Status, VisitKey>> = {
  scheduled: 'scheduled',
  requested: 'requested',
  intake: 'intake',
  waiting: 'waiting',
  in_call: 'in_call',
  on_hold: 'on_hold',
};

/** The row the engine built for `person` of one recorded visit. */
export function recordedRow(person: PersonKey, visit: VisitKey): QueueRow {
  const { queue, requests, sessions } = engine.people[person].view;
  const id = engine.visits[visit].id;
  const found = [...queue, ...requests, ...sessions].find((r) => r.visit_id === id);
  if (!found) throw new Error(`${person} is not shown ${visit}`);
  return structuredClone(found);
}

/** Another patient like reception's recorded one in that status (default waiting): what the
 * row offers is the engine's answer for that status; names, waits and the like are the test's. */
export function row(over: Partial<QueueRow> & Pick<QueueRow, 'visit_id' | 'patient_name'>): QueueRow {
  const like = recordedRow('receptionist', IN_STATUS[over.status ?? 'waiting'] ?? 'waiting');
  return {
    ...like,
    room_id: engine.rooms.reception,
    room_name: 'Reception',
    priority: 'routine',
    triage_note: null,
    assigned_provider: null,
    after_hours: false,
    waiting_since: null,
    // Unless the test says otherwise, the whole wait is this stretch.
    total_wait_from: over.waiting_since ?? null,
    total_waited: 0,
    call_started_at: null,
    call_link: null,
    in_my_rooms: true,
    arrived_at: null,
    version: 1,
    ...over,
  };
}

/** Reception's console with empty lists, then `over`. */
export function clinicState(over: Partial<AppState> = {}): AppState {
  return { ...consoleOf('receptionist'), queue: [], requests: [], sessions: [], today: [], providers: [], now: Date.now(), ...over };
}

/** Renders the whole console on a mock backend and waits for its first screen. */
export async function renderConsole(over: Partial<AppState> = {}, options: MockOptions = {}) {
  const backend = createMockBackend(clinicState(over), options);
  const result = render(App, { props: { backend } });
  await screen.findByTestId(
    over.screen === 'locked' ? 'lock-screen' : over.screen === 'sign_in' ? 'signin-submit' : 'clinic-name',
  );
  return { backend, ...result };
}

/** Renders `person`'s console as the engine recorded it, answering their actions as it did. */
export async function renderAs(person: PersonKey, options: MockOptions = {}) {
  const backend = createMockBackend({ ...consoleOf(person) }, { ...answersOf(person), ...options });
  const result = render(App, { props: { backend } });
  await screen.findByTestId('clinic-name');
  return { backend, ...result };
}

export const actCommands = (backend: { callsTo(cmd: string): Array<{ args?: Record<string, unknown> }> }) =>
  backend.callsTo('act').map((c) => c.args as { visitId: string; command: Command });
