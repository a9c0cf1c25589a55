// A small clinic to look at the console in a plain browser (`npm run dev`, or a build opened
// with `?mock`). Not used inside the Tauri app. Variants: ?mock=signin | locked | offline | outcome.

import { DEFAULT_SETTINGS, type MockOptions } from './mock';
import type { AppState, QueueRow, Visit } from './types';

const MIN = 60_000;

export function sampleClinic(variant = '', now = Date.now()): { state: AppState; options: MockOptions } {
  const ago = (m: number) => now - m * MIN;
  const staff = [
    { id: 's-rosa', name: 'Rosa Martinez', roles: ['receptionist'], availability: 'available' },
    { id: 's-lee', name: 'Dr Amir Lee', roles: ['provider'], availability: 'available' },
    { id: 's-okafor', name: 'Dr Sara Okafor', roles: ['provider'], availability: 'busy' },
    { id: 's-berg', name: 'Tom Berg RN', roles: ['provider'], availability: 'on_call' },
    { id: 's-jamie', name: 'Jamie Fox', roles: ['scheduler'], availability: 'available' },
  ];
  const rooms = [
    { id: 'r-reception', name: 'Reception' },
    { id: 'r-triage', name: 'Nurse triage' },
    { id: 'r-lee', name: "Dr Lee's room", provider: 's-lee' },
    { id: 'r-okafor', name: "Dr Okafor's room", provider: 's-okafor' },
  ];
  const row = (r: Partial<QueueRow> & Pick<QueueRow, 'visit_id' | 'patient_name' | 'room_id'>): QueueRow => ({
    room_name: rooms.find((x) => x.id === r.room_id)?.name ?? '',
    status: 'waiting',
    priority: 'routine',
    in_call: [],
    version: 3,
    pending: [],
    intake_finished: true,
    after_hours: false,
    ...r,
  });
  const lee = { id: 's-lee', name: 'Dr Amir Lee' };
  const okafor = { id: 's-okafor', name: 'Dr Sara Okafor' };

  const queue: QueueRow[] = [
    row({
      visit_id: 'v-1',
      patient_name: 'Maria Gonzalez',
      room_id: 'r-reception',
      priority: 'emergency',
      arrived_at: ago(3.2),
      waiting_since: ago(3.2),
      triage_note: 'Chest pain since this morning, short of breath',
    }),
    row({
      visit_id: 'v-2',
      patient_name: 'Tom Becker',
      room_id: 'r-triage',
      status: 'on_hold',
      priority: 'urgent',
      arrived_at: ago(31),
      waiting_since: ago(6.5),
      assigned_provider: lee,
      triage_note: 'High fever for 3 days',
    }),
    row({ visit_id: 'v-3', patient_name: 'Ana P.', room_id: 'r-reception', arrived_at: ago(24.3), waiting_since: ago(24.3) }),
    row({
      visit_id: 'v-6',
      patient_name: 'Fatima Noor',
      room_id: 'r-okafor',
      status: 'in_call',
      arrived_at: ago(19),
      in_call: [okafor],
      assigned_provider: okafor,
    }),
    row({
      visit_id: 'v-4',
      patient_name: "Liam O'Brien",
      room_id: 'r-lee',
      arrived_at: ago(12.1),
      waiting_since: ago(12.1),
      assigned_provider: lee,
    }),
    row({
      visit_id: 'v-5',
      patient_name: 'Chen Wei',
      room_id: 'r-reception',
      status: 'intake',
      intake_finished: false,
      arrived_at: ago(1.6),
      waiting_since: ago(1.6),
      after_hours: true,
    }),
    row({
      visit_id: 'v-7',
      patient_name: 'Jordan Smith',
      room_id: 'r-reception',
      arrived_at: ago(0.8),
      waiting_since: ago(0.8),
    }),
  ];

  const requests: QueueRow[] = [
    row({
      visit_id: 'v-8',
      patient_name: 'Grace Kim',
      room_id: 'r-lee',
      status: 'requested',
      arrived_at: ago(4),
      waiting_since: ago(4),
      requested_provider: lee,
    }),
  ];

  const sessions: QueueRow[] = [
    row({
      visit_id: 'v-9',
      patient_name: 'Peter Novak',
      room_id: 'r-okafor',
      status: 'scheduled',
      starts_at: now + 25 * MIN,
      assigned_provider: okafor,
    }),
    row({
      visit_id: 'v-10',
      patient_name: 'Olivia Brown',
      room_id: 'r-reception',
      status: 'scheduled',
      starts_at: now + 100 * MIN,
    }),
  ];

  const state: AppState = {
    screen: 'queue',
    server_url: 'https://harbour.clinic.example',
    me: {
      id: 's-rosa',
      name: 'Rosa Martinez',
      email: 'rosa@harbour.example',
      roles: ['receptionist'],
      availability: 'available',
      rooms: rooms.map((r) => r.id),
    },
    clinic: { id: 'c-harbour', name: 'Harbour Street Clinic', slug: 'harbour' },
    connection: { state: 'online', pending: 0 },
    rooms,
    staff,
    queue,
    requests,
    sessions,
    outcomes: [],
    settings: structuredClone(DEFAULT_SETTINGS),
    now,
  };

  const maria: Visit = {
    id: 'v-1',
    clinic_id: 'c-harbour',
    room_id: 'r-reception',
    status: 'waiting',
    priority: 'emergency',
    triage_note: 'Chest pain since this morning, short of breath',
    patient: { name: 'Maria Gonzalez', contact: { phone: '+15555550142', email: 'maria.g@example.org' } },
    intake: {
      reason_for_visit: 'Chest pain since this morning, worse when climbing stairs',
      date_of_birth: '12 April 1961',
      current_medications: 'Lisinopril 10 mg',
      allergies: 'Penicillin',
    },
    intake_finished: true,
    created_at: ago(5),
    arrived_at: ago(3.2),
    in_call: [],
    messages: [{ at: ago(2), from: 's-rosa', text: 'A provider will be with you shortly' }],
    after_hours: false,
    version: 4,
    history: [
      {
        version: 1,
        at: ago(5),
        actor: { kind: 'patient' },
        change: {
          type: 'opened',
          clinic_id: 'c-harbour',
          room_id: 'r-reception',
          patient: { name: 'Maria Gonzalez' },
          status: 'intake',
        },
        status: 'intake',
      },
      { version: 2, at: ago(3.2), actor: { kind: 'patient' }, change: { type: 'intake_finished' }, status: 'waiting' },
      {
        version: 3,
        at: ago(2.5),
        actor: { kind: 'staff', id: 's-rosa' },
        change: { type: 'priority_changed', priority: 'emergency', note: 'Chest pain since this morning, short of breath' },
        status: 'waiting',
      },
      {
        version: 4,
        at: ago(2),
        actor: { kind: 'staff', id: 's-rosa' },
        change: { type: 'messaged', text: 'A provider will be with you shortly' },
        status: 'waiting',
      },
    ],
  };

  const options: MockOptions = {
    confirmAfterMs: 900,
    details: { 'v-1': maria },
    rejections: {
      'v-7': { code: 'already_claimed', message: 'already claimed by someone else', held_by: [okafor] },
    },
  };

  switch (variant) {
    case 'signin':
      state.screen = 'sign_in';
      state.me = undefined;
      break;
    case 'locked':
      state.screen = 'locked';
      break;
    case 'offline':
      state.connection = { state: 'offline', since: ago(3), as_of: ago(3), pending: 2 };
      queue[2].pending = [{ action_id: 'a-1', command: 'claim', since: ago(1) }];
      queue[0].pending = [{ action_id: 'a-2', command: 'message', since: ago(2) }];
      options.confirmAfterMs = undefined;
      break;
    case 'sending':
      // Online, one message on its way: the pill at the bottom, nothing moved.
      state.connection = { state: 'online', pending: 1 };
      queue[0].pending = [{ action_id: 'a-2', command: 'message', since: ago(0) }];
      options.confirmAfterMs = undefined;
      break;
    case 'long':
      // A busy clinic: 500 more waiting in Reception.
      for (let i = 0; i < 500; i++) {
        queue.push(row({ visit_id: `v-long-${i}`, patient_name: `Patient ${i}`, room_id: 'r-reception', waiting_since: ago(i % 90) }));
      }
      break;
    case 'outcome':
      state.outcomes = [
        {
          action_id: 'a-9',
          visit_id: 'v-7',
          command: 'claim',
          code: 'already_claimed',
          message: 'already claimed by someone else',
          held_by: [okafor],
        },
      ];
      break;
  }
  return { state, options };
}
