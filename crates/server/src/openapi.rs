//! The OpenAPI 3 document served at `/v1/openapi.json`, built from the handlers' annotations.

use crate::api;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "patient",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Patient-Token"))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Frontdesk clinic API", description = "The hosted clinic API the staff console syncs with. Every error answers {code, message}."),
    modifiers(&SecuritySchemes),
    paths(
        api::healthz, api::openapi,
        api::auth::sign_in, api::auth::sign_out, api::auth::register_station, api::auth::stations, api::auth::revoke_station, api::auth::switch_on_station,
        api::staff::me, api::staff::availability, api::staff::set_availability, api::staff::set_pin,
        api::staff::alerts, api::staff::set_alerts, api::staff::rooms, api::staff::create_room,
        api::staff::update_room, api::staff::clinic, api::staff::update_clinic, api::staff::deliveries,
        api::staff::staff, api::staff::create_staff, api::staff::update_staff, api::staff::queue, api::staff::snapshot, api::staff::audit,
        api::events::events, api::events::stream,
        api::visits::visit, api::visits::history, api::visits::command, api::visits::claim, api::visits::join, api::visits::leave_call, api::visits::end_call,
        api::visits::transfer, api::visits::assign, api::visits::decline, api::visits::message,
        api::visits::set_priority, api::visits::accept, api::visits::accept_and_enter, api::visits::cancel,
        api::visits::no_show, api::visits::request_session, api::visits::schedule,
        api::patient::arrive, api::patient::request_session, api::patient::visit,
        api::patient::update_intake, api::patient::finish_intake, api::patient::leave,
    ),
    components(schemas(crate::events::Frame, crate::events::Event, crate::events::EventBody))
)]
struct ApiDoc;

/// The document as JSON, built once.
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
        .clone()
}
