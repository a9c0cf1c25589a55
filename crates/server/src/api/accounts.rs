//! Accounts, as admins and staff manage them: deactivating someone who left (and bringing them
//! back), signing a person out everywhere, a one-time password reset link sent by email, and
//! changing one's own password. Whatever ends sessions ends them in the store and tells this
//! process's streams at once ([`crate::auth::SessionCache::end_staff`]).

use super::ApiJson;
use crate::admin;
use crate::audit::{Action, AuditRecord};
use crate::auth::{RESET_TOKEN_PREFIX, StaffAuth, hash_secret, new_token, token_hash};
use crate::error::{AppError, ErrorBody};
use crate::limits::ClientAddr;
use crate::model::StaffInfo;
use crate::state::AppState;
use crate::store::{Channel, NewMessage, PasswordReset};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use frontdesk_domain::{Role, StaffId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The member of staff `raw` names in the admin's clinic.
pub(super) async fn staff_of_clinic(
    state: &AppState,
    who: &StaffAuth,
    raw: &str,
) -> Result<StaffInfo, AppError> {
    let id: StaffId = super::path_id(raw, "staff")?;
    state
        .store
        .staff(who.session.staff.clinic_id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound("staff"))
}

async fn set_active(
    state: AppState,
    who: StaffAuth,
    from: ClientAddr,
    staff: String,
    active: bool,
) -> Result<Json<StaffInfo>, AppError> {
    who.require(Role::Admin)?;
    let target = staff_of_clinic(&state, &who, &staff).await?;
    let me = &who.session.staff;
    let info =
        admin::set_staff_active(state.store.as_ref(), me.id, &target, active, state.now()).await?;
    if !active {
        state.sessions.end_staff(target.id, None);
    } else {
        state.sessions.forget_staff(target.id);
    }
    let action = if active {
        Action::STAFF_REACTIVATED
    } else {
        Action::STAFF_DEACTIVATED
    };
    let detail = serde_json::json!({"staff": target.id});
    state
        .audit_event(&who.session, &from, action, detail)
        .await?;
    Ok(Json(info))
}

#[utoipa::path(post, path = "/v1/staff/{staff}/deactivate", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")),
    responses((status = 200, description = "deactivated: they cannot sign in, and every session of theirs (stations included) has ended", body = StaffInfo),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "an admin cannot deactivate their own account", body = ErrorBody)))]
pub async fn deactivate(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
) -> Result<Json<StaffInfo>, AppError> {
    set_active(state, who, from, staff, false).await
}

#[utoipa::path(post, path = "/v1/staff/{staff}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")),
    responses((status = 200, description = "active again: they can sign in", body = StaffInfo),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the account holds no role: give it one first (code `no_role`)", body = ErrorBody)))]
pub async fn reactivate(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
) -> Result<Json<StaffInfo>, AppError> {
    set_active(state, who, from, staff, true).await
}

#[utoipa::path(post, path = "/v1/staff/{staff}/sign-out", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")),
    responses((status = 204, description = "every session of theirs (stations included) has ended; their password still works"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
) -> Result<StatusCode, AppError> {
    who.require(Role::Admin)?;
    let target = staff_of_clinic(&state, &who, &staff).await?;
    state
        .store
        .revoke_staff_sessions(target.clinic_id, target.id, state.now())
        .await?;
    state.sessions.end_staff(target.id, None);
    let detail = serde_json::json!({"staff": target.id});
    state
        .audit_event(&who.session, &from, Action::STAFF_SIGNED_OUT, detail)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reset link went out.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetSent {
    /// Where the email went.
    pub email: String,
    /// The link works once, until then.
    #[schema(value_type = i64)]
    pub expires_at: Timestamp,
}

#[utoipa::path(post, path = "/v1/staff/{staff}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("staff" = String, Path, description = "staff id")),
    responses((status = 202, description = "a one-time reset code is queued to their email (`GET /v1/deliveries` shows the email with the code hidden)", body = PasswordResetSent),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send_password_reset(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    Path(staff): Path<String>,
) -> Result<(StatusCode, Json<PasswordResetSent>), AppError> {
    who.require(Role::Admin)?;
    let target = staff_of_clinic(&state, &who, &staff).await?;
    let now = state.now();
    let lifetime = state.settings.password_reset_lifetime;
    let expires_at = Timestamp::from_millis(now.as_millis() + lifetime.as_millis() as i64);
    let token = new_token(RESET_TOKEN_PREFIX)?;
    let hash = token_hash(&token);
    let minutes = lifetime.as_secs().div_ceil(60);
    let email = NewMessage {
        key: format!("password_reset:{hash}"),
        visit: None,
        kind: "password_reset".into(),
        channel: Channel::Email,
        to: target.email.clone(),
        subject: "Reset your Frontdesk password".into(),
        body: format!(
            "Hello {name},\n\nAn admin of your clinic asked for your Frontdesk password to be \
             reset. Set a new one with this code within {minutes} minutes; it works once:\n\n\
             {token}\n\nSetting a new password signs you out everywhere. If you did not expect \
             this, tell your clinic's admin.\n",
            name = target.name,
        ),
        due_at: now,
        only_while_open: false,
    };
    let reset = PasswordReset {
        token_hash: hash,
        clinic: target.clinic_id,
        staff: target.id,
        expires_at,
    };
    state.store.create_password_reset(reset, email, now).await?;
    let detail = serde_json::json!({"staff": target.id});
    state
        .audit_event(&who.session, &from, Action::PASSWORD_RESET_SENT, detail)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetSent {
            email: target.email,
            expires_at,
        }),
    ))
}

/// A new password, with the one-time code from the reset email.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    pub token: String,
    /// At least 8 characters.
    pub password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", request_body = NewPassword,
    responses((status = 204, description = "the new password is set; every session of theirs has ended and a locked PIN is unlocked"),
        (status = 410, description = "the code is unknown, used or expired (code `reset_link_expired`)", body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    from: ClientAddr,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, AppError> {
    admin::check_password(&body.password)?;
    if !body.token.starts_with(RESET_TOKEN_PREFIX) || body.token.len() > 200 {
        return Err(AppError::ResetLinkExpired);
    }
    let hash = token_hash(&body.token);
    // A code that cannot work costs no password hashing.
    if state
        .store
        .password_reset(&hash, state.now())
        .await?
        .is_none()
    {
        return Err(AppError::ResetLinkExpired);
    }
    let password_hash = hash_off_thread(&state, body.password).await?;
    let (clinic, staff) = state
        .store
        .use_password_reset(&hash, password_hash, state.now())
        .await?
        .ok_or(AppError::ResetLinkExpired)?;
    state.sessions.end_staff(staff, None);
    state
        .audit
        .now(AuditRecord {
            clinic_id: clinic,
            at: state.now(),
            actor: crate::audit::staff_actor(staff),
            client: from.0,
            action: Action::PASSWORD_RESET.into(),
            visits: Vec::new(),
            detail: serde_json::Value::Null,
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One's own new password, with the current one.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 8 characters.
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange(..)")
    }
}

#[utoipa::path(put, path = "/v1/me/password", tag = "staff", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 204, description = "changed; every other session of theirs has ended, this one goes on"),
        (status = 403, description = "the current password is wrong (code `wrong_password`)", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    who: StaffAuth,
    from: ClientAddr,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    admin::check_password(&body.new_password)?;
    let me = who.session.staff.clone();
    let clinic = state
        .store
        .clinic(me.clinic_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    // The same budget as signing in: a stolen token cannot guess the password faster.
    let account = format!("{}/{}", clinic.slug, me.email.to_lowercase());
    let store = state.store.as_ref();
    super::auth::guarded(&state, account, &from, body.current_password, async {
        let found = store.staff_with_secrets(me.clinic_id, &me.email).await?;
        Ok(found.map(|(s, secrets)| (s, Some(secrets.password_hash))))
    })
    .await
    // Not 401: the session itself is fine, and a console takes 401 as "signed out".
    .map_err(|e| match e {
        AppError::BadCredentials => AppError::WrongPassword,
        other => other,
    })?;
    let password_hash = hash_off_thread(&state, body.new_password).await?;
    let keep = Some(who.token_hash.clone());
    if !state
        .store
        .set_password(
            me.clinic_id,
            me.id,
            password_hash,
            keep.clone(),
            state.now(),
        )
        .await?
    {
        return Err(AppError::Unauthorized);
    }
    state.sessions.end_staff(me.id, keep);
    let none = serde_json::Value::Null;
    state
        .audit_event(&who.session, &from, Action::PASSWORD_CHANGED, none)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `text` with every reset code in it blanked.
pub fn hide_reset_codes(text: &str) -> String {
    if !text.contains(RESET_TOKEN_PREFIX) {
        return text.to_owned();
    }
    text.split_inclusive(char::is_whitespace)
        .map(
            |word| match word.trim_end().strip_prefix(RESET_TOKEN_PREFIX) {
                Some(code) if !code.is_empty() => {
                    let space = &word[word.trim_end().len()..];
                    format!("{RESET_TOKEN_PREFIX}(hidden){space}")
                }
                _ => word.to_owned(),
            },
        )
        .collect()
}

async fn hash_off_thread(state: &AppState, secret: String) -> Result<String, AppError> {
    let cost = state.settings.hash_cost;
    tokio::task::spawn_blocking(move || hash_secret(&secret, cost))
        .await
        .map_err(AppError::internal)?
}

#[cfg(test)]
mod tests {
    use super::hide_reset_codes;

    #[test]
    fn reset_codes_are_hidden_and_the_rest_kept() {
        let text = "Set a new one with this code:\n\nfdr_abc123\n\nthen fdr_ alone stays";
        assert_eq!(
            hide_reset_codes(text),
            "Set a new one with this code:\n\nfdr_(hidden)\n\nthen fdr_ alone stays"
        );
        assert_eq!(hide_reset_codes("no code"), "no code");
    }
}
