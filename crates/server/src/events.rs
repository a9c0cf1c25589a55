//! The clinic's event stream on the wire: what each committed change looks like to the console,
//! and the frames of the WebSocket. A visit event carries the change (the visit id, its new
//! version and the entries the command added); a client lays the entries on its copy.

pub use frontdesk_api::{Event, EventBody, Frame};

/// An event as fanned out to live subscribers: serialized once, sent to many.
#[derive(Clone, Debug)]
pub struct Published {
    pub seq: u64,
    /// The full `Frame::Event` text; clones share one buffer.
    pub frame: axum::extract::ws::Utf8Bytes,
}

impl Published {
    pub fn new(seq: u64, event_json: &str) -> Self {
        Self {
            seq,
            frame: format!(r#"{{"type":"event","event":{event_json}}}"#).into(),
        }
    }
}
