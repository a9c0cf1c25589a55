//! Pushing the state to the UI: whole at start, when the screen, the person or the settings
//! change, after the engine's resync and when the UI asks; otherwise only what changed since
//! the last push, so a push's size follows the change and not the length of the queue.

use super::{Console, lock};
use crate::state::{Push, Screen, StateChanges};
use frontdesk_client::rows::Sent;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The pushes' counter, and the UI's ask for the whole state next.
#[derive(Debug, Default)]
pub(super) struct Pushes {
    last: AtomicU64,
    whole_next: AtomicBool,
}

impl Pushes {
    /// The number of the last push made.
    pub(super) fn last(&self) -> u64 {
        self.last.load(Ordering::SeqCst)
    }
}

/// What the last push left the UI holding.
#[derive(Default)]
struct Pushed {
    /// The rows the UI holds; none when the next push must be whole.
    sent: Option<Sent>,
    /// What, changed, calls for the whole state: the screen, who, where, the settings, the
    /// resyncs so far.
    whole_key: String,
}

impl Console {
    /// The UI could not lay a push on (it missed one): the next push is the whole state.
    pub fn resend_whole(&self) {
        self.pushes.whole_next.store(true, Ordering::SeqCst);
        self.bump();
    }

    /// What, changed, calls for the whole state.
    fn whole_key(&self) -> String {
        let prefs = lock(&self.prefs).clone();
        let locked = *lock(&self.locked);
        let resyncs = lock(&self.session).as_ref().map(|s| s.engine.resyncs());
        let screen = match (resyncs, locked) {
            (None, _) => Screen::SignIn,
            (Some(_), true) => Screen::Locked,
            (Some(_), false) => Screen::Queue,
        };
        let ended = lock(&self.session_ended).clone();
        format!(
            "{screen:?}|{:?}|{:?}|{}|{ended:?}|{resyncs:?}",
            prefs.server,
            prefs.email,
            serde_json::to_string(&prefs.settings).unwrap_or_default(),
        )
    }

    /// The next push, and the number of patients waiting in my rooms it shows.
    fn next_push(&self, pushed: &mut Pushed) -> (Push, usize) {
        let key = self.whole_key();
        let asked = self.pushes.whole_next.swap(false, Ordering::SeqCst);
        let number = self.pushes.last() + 1;
        if !asked && key == pushed.whole_key {
            let session = lock(&self.session);
            if let (Some(s), Some(sent)) = (session.as_ref(), pushed.sent.as_mut()) {
                let view = s.engine.changes_since(sent);
                let waiting = s.engine.waiting();
                self.pushes.last.store(number, Ordering::SeqCst);
                let changes = StateChanges {
                    push: number,
                    base: number - 1,
                    view,
                };
                return (Push::Changes(changes), waiting);
            }
        }
        self.pushes.last.store(number, Ordering::SeqCst);
        let (state, sent) = self.app_state_and_sent();
        pushed.sent = sent;
        pushed.whole_key = key;
        let waiting = state.waiting();
        (Push::State(state), waiting)
    }

    /// Hands every change to `send` (see [`Push`]), and the number of patients waiting to
    /// `show_count` (the tray) each time that number changes. Runs as long as the console does.
    /// A session the server has ended is closed first (see [`Console::close_ended_session`]),
    /// so the UI never draws one.
    pub async fn forward_changes(
        &self,
        mut send: impl FnMut(&Push),
        mut show_count: impl FnMut(usize),
    ) {
        let mut changes = self.changes();
        let mut last_count = usize::MAX;
        let mut pushed = Pushed::default();
        loop {
            self.close_ended_session().await;
            let (push, count) = self.next_push(&mut pushed);
            send(&push);
            if count != last_count {
                show_count(count);
                last_count = count;
            }
            // A change after a quiet spell is sent at once; the rest of a burst of events waits
            // for the next 30 ms tick and goes as one repaint.
            tokio::time::sleep(Duration::from_millis(30)).await;
            if changes.changed().await.is_err() {
                break;
            }
            changes.borrow_and_update();
        }
    }
}
