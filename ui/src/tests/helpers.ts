// A small clinic for UI tests: Rosa at reception, Dr Lee, two rooms, and rows made to order.
import { render, screen } from '@testing-library/svelte';
import App from '../App.svelte';
import { createMockBackend, type MockOptions } from '../lib/mock';
import { DEFAULT_SETTINGS } from '../lib/mock';
import type { AppState, QueueRow } from '../lib/types';

export const BASE = Date.UTC(2026, 10, 21, 9, 30, 0);
export const MIN = 60_000;

export const ROSA = { id: 's-rosa', name: 'Rosa Martinez' };
export const LEE = { id: 's-lee', name: 'Dr Lee' };

export function row(over: Partial<QueueRow> & Pick<QueueRow, 'visit_id' | 'patient_name'>): QueueRow {
  return {
    room_id: 'r-reception',
    room_name: 'Reception',
    status: 'waiting',
    priority: 'routine',
    in_call: [],
    version: 1,
    pending: [],
    intake_finished: true,
    after_hours: false,
    ...over,
  };
}

export function clinicState(over: Partial<AppState> = {}): AppState {
  return {
    screen: 'queue',
    server_url: 'https://clinic.test',
    me: {
      id: ROSA.id,
      name: ROSA.name,
      email: 'rosa@clinic.test',
      roles: ['receptionist'],
      availability: 'available',
      rooms: ['r-reception', 'r-lee'],
    },
    clinic: { id: 'c-1', name: 'Harbour Street Clinic', slug: 'harbour' },
    connection: { state: 'online', pending: 0 },
    rooms: [
      { id: 'r-reception', name: 'Reception' },
      { id: 'r-lee', name: "Dr Lee's room", provider: LEE.id },
    ],
    staff: [
      { ...ROSA, roles: ['receptionist'], availability: 'available' },
      { ...LEE, roles: ['provider'], availability: 'available' },
    ],
    queue: [],
    requests: [],
    sessions: [],
    outcomes: [],
    settings: structuredClone(DEFAULT_SETTINGS),
    now: Date.now(),
    ...over,
  };
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
