// A clinic to look at the console in a plain browser during development (`npm run dev`): the
// engine's recorded answers for reception at Harbour Street Clinic (src/fixtures/engine.json),
// on the mock backend. Never in the app's bundle. Variants, for screenshots:
// ?mock=signin | locked | offline | sending | long | outcome.

import { answersOf, consoleOf, refusal, visitId } from '../fixtures/engine';
import type { MockOptions } from './mock';
import type { AppState, QueueRow } from './types';

export function sampleClinic(variant = ''): { state: AppState; options: MockOptions } {
  const state = consoleOf('receptionist');
  const options: MockOptions = { confirmAfterMs: 900, ...answersOf('receptionist') };
  const row = (key: Parameters<typeof visitId>[0]): QueueRow =>
    state.queue.find((r) => r.visit_id === visitId(key))!;
  const since = (minutesAgo: number) => state.now - minutesAgo * 60_000;

  switch (variant) {
    case 'signin':
      options.signsInAs = state.me ?? undefined;
      state.screen = 'sign_in';
      state.me = undefined;
      break;
    case 'locked':
      state.screen = 'locked';
      break;
    case 'offline':
      state.connection = { state: 'offline', since: since(3), as_of: since(3), pending: 2 };
      row('waiting_assigned').pending = [{ action_id: 'a-1', command: 'claim', since: since(1) }];
      row('waiting').pending = [{ action_id: 'a-2', command: 'message', since: since(2) }];
      options.confirmAfterMs = undefined;
      break;
    case 'sending':
      // Online, one message on its way: the pill at the bottom, nothing moved.
      state.connection = { state: 'online', pending: 1 };
      row('waiting').pending = [{ action_id: 'a-2', command: 'message', since: since(0) }];
      options.confirmAfterMs = undefined;
      break;
    case 'long': {
      // A busy clinic: 500 more like the last patient in line.
      const last = state.queue[state.queue.length - 1];
      for (let i = 0; i < 500; i++) {
        state.queue.push({
          ...structuredClone(last),
          visit_id: `long-${i}`,
          patient_name: `Patient ${i}`,
          waiting_since: since(i % 90),
        });
      }
      break;
    }
    case 'outcome': {
      // Reception claimed Maria a moment after Dr Lee did: the engine's answer to that.
      const lost = refusal('lost_race');
      if ('refused' in lost.answer.result) {
        state.outcomes = [
          { action_id: 'a-9', visit_id: lost.visitId, command: lost.answer.command.command, ...lost.answer.result.refused },
        ];
      }
      break;
    }
  }
  return { state, options };
}
