//! The OpenAPI 3 document served at `/v1/openapi.json`, built from the handlers' annotations.
//! The answers every handler of a kind can give (401 without a token, 400/415/422 from the
//! JSON body, 404 for an unknown id in the path) are added here once, from what each operation
//! declares, so no annotation can forget one.

use crate::api;
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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

/// The error answers the server's extractors give, added to each operation that can meet them.
struct CommonErrors;

impl CommonErrors {
    fn add(op: &mut Operation) {
        let params = op.parameters.as_deref().unwrap_or_default();
        let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
        let mut answers = Vec::new();
        if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
            answers.push((
                "401",
                "sign in first: the token is missing, unknown, expired or revoked",
            ));
        }
        if op.request_body.is_some() {
            answers.extend([
                (
                    "400",
                    "the body is not well-formed JSON, or a header is malformed",
                ),
                ("413", "the body is too large"),
                ("415", "the body is not sent as application/json"),
                (
                    "422",
                    "the body does not have the fields and values asked for",
                ),
            ]);
        }
        if has(ParameterIn::Query) || has(ParameterIn::Header) {
            answers.push(("400", "a query parameter or header is malformed"));
        }
        if has(ParameterIn::Path) {
            answers.push(("404", "no such thing in this clinic (or a malformed id)"));
        }
        for (status, description) in answers {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| error_answer(description));
        }
    }
}

fn error_answer(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                Self::add(op);
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Frontdesk clinic API", description = "The hosted clinic API the staff console syncs with. Every error answers {code, message}."),
    modifiers(&SecuritySchemes, &CommonErrors),
    paths(
        api::healthz, api::openapi,
        api::auth::sign_in, api::auth::sign_out, api::auth::register_station, api::auth::stations, api::auth::revoke_station, api::auth::switch_on_station,
        api::staff::me, api::staff::availability, api::staff::set_availability, api::staff::set_pin,
        api::staff::alerts, api::staff::set_alerts, api::staff::rooms, api::staff::create_room,
        api::staff::update_room, api::staff::clinic, api::staff::update_clinic, api::staff::deliveries,
        api::staff::staff, api::staff::create_staff, api::staff::update_staff, api::staff::queue, api::staff::snapshot, api::staff::audit, api::staff::export_audit, api::staff::visit_trail,
        api::accounts::deactivate, api::accounts::reactivate, api::accounts::sign_out_everywhere,
        api::accounts::send_password_reset, api::accounts::reset_password, api::accounts::change_password,
        api::setup::hours_preview, api::setup::retry_delivery, api::setup::set_staff_pin,
        api::events::events, api::events::stream,
        api::reports::summary, api::reports::summary_csv,
        api::visits::visit, api::visits::finished, api::visits::history, api::visits::command, api::visits::claim, api::visits::take_over, api::visits::join, api::visits::leave_call, api::visits::end_call,
        api::visits::transfer, api::visits::assign, api::visits::decline, api::visits::message,
        api::visits::set_priority, api::visits::accept, api::visits::accept_and_enter, api::visits::cancel,
        api::visits::no_show, api::visits::reschedule, api::visits::request_session, api::visits::schedule,
        api::patient::arrive, api::patient::request_session, api::patient::visit,
        api::patient::update_intake, api::patient::finish_intake, api::patient::leave,
        api::fhir::encounters, api::fhir::appointments, api::fhir::import_appointment, api::fhir::transaction,
    ),
    components(schemas(crate::events::Frame, frontdesk_api::ClientFrame, crate::events::Event, crate::events::EventBody))
)]
struct ApiDoc;

/// The document as JSON, built once.
pub fn document() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into()))
        .clone()
}
