//! The console's UI reads TypeScript types generated from the Rust types that cross to it, so
//! the two cannot drift apart. This test regenerates them and fails when the committed file is
//! stale; `FRONTDESK_WRITE_UI_TYPES=1 cargo test -p frontdesk-tests --test ui_types` rewrites it.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use ts_rs::{Config, TS, TypeVisitor};

/// Walks a type and everything it refers to, keeping one declaration per named type.
struct Declarations {
    cfg: Config,
    seen: HashSet<TypeId>,
    by_name: BTreeMap<String, String>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        let decl = T::decl(&self.cfg);
        let docs = T::docs().unwrap_or_default();
        self.by_name
            .insert(T::ident(&self.cfg), format!("{docs}export {decl}"));
        T::visit_dependencies(self);
    }
}

fn generated() -> String {
    // JSON numbers are JavaScript numbers: epoch milliseconds and versions fit them exactly.
    let mut all = Declarations {
        cfg: Config::new().with_large_int("number"),
        seen: HashSet::new(),
        by_name: BTreeMap::new(),
    };
    // The roots: what the shell sends (the engine's view inside it), what the UI sends, what
    // the details panel reads, and how a command refuses.
    all.visit::<frontdesk_console::AppState>();
    all.visit::<frontdesk_console::StateChanges>();
    all.visit::<frontdesk_console::PrecallReport>();
    all.visit::<frontdesk_console::UiError>();
    all.visit::<frontdesk_console::Queued>();
    all.visit::<frontdesk_client::view::View>();
    all.visit::<frontdesk_domain::Command>();
    all.visit::<frontdesk_domain::Visit>();
    // The Calendar workspace's pages and forms.
    all.visit::<frontdesk_console::calendar::CalendarQuery>();
    all.visit::<frontdesk_console::calendar::CalendarView>();
    all.visit::<frontdesk_console::calendar::BookingForm>();
    all.visit::<frontdesk_console::calendar::BookingCheck>();
    all.visit::<frontdesk_console::calendar::BookingDone>();
    // The Admin workspace: what it reads and sends.
    all.visit::<frontdesk_console::RoomEntry>();
    all.visit::<frontdesk_api::admin::NewRoom>();
    all.visit::<frontdesk_api::admin::NewStaff>();
    all.visit::<frontdesk_api::admin::StaffChange>();
    all.visit::<frontdesk_api::admin::HoursPreview>();
    all.visit::<frontdesk_api::admin::Delivery>();
    all.visit::<frontdesk_api::Station>();
    all.visit::<frontdesk_api::AlertSubscription>();
    // The Reports workspace: what it asks for and what it shows.
    all.visit::<frontdesk_client::api::ReportQuery>();
    all.visit::<frontdesk_domain::report::Report>();
    // Declared by hand on the Rust side (a question is a string or an object), so not reached.
    all.visit::<frontdesk_api::QuestionKind>();
    let mut out = String::from(
        "// Generated from the Rust types by tests/tests/ui_types.rs: do not edit by hand.\n\
         // Regenerate: FRONTDESK_WRITE_UI_TYPES=1 cargo test -p frontdesk-tests --test ui_types\n\n",
    );
    for decl in all.by_name.values() {
        out.push_str(decl.trim_end());
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_ui_types_are_generated_from_the_rust_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/generated/wire.ts");
    let fresh = generated();
    if std::env::var_os("FRONTDESK_WRITE_UI_TYPES").is_some() {
        std::fs::write(&path, &fresh).expect("write the generated types");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: a Rust type the UI reads has changed. Regenerate it with \
         FRONTDESK_WRITE_UI_TYPES=1 cargo test -p frontdesk-tests --test ui_types",
        path.display()
    );
}
