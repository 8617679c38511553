//! What an admin does to a user beyond the lifecycle in `state`: delete,
//! expire or reset the password, reset or remove MFA factors. Statuses and
//! events as Okta: a user not yet `DEPROVISIONED` is deactivated by a delete
//! and deleted by the next (`user.lifecycle.delete.initiated`);
//! `user.account.expire_password`, `user.account.reset_password`,
//! `user.mfa.factor.reset_all`, `user.mfa.factor.deactivate`. No I/O here.

use chrono::{DateTime, Utc};
use serde_json::{Map, json};

use super::state::{ApiError, ApiResult, Ctx, OrgState};

impl OrgState {
    /// A user's status after a password operation, their sessions ended if
    /// asked; the user as an event target.
    fn password_status(
        &mut self,
        id: &str,
        status: &str,
        revoke_sessions: bool,
        now: DateTime<Utc>,
    ) -> lanyard_core::event::LogEntity {
        let user = self.users.get_mut(id).expect("looked up");
        if user.status != status {
            user.status = status.to_string();
            user.status_changed = Some(now);
        }
        user.last_updated = now;
        let entity = user.entity();
        if revoke_sessions {
            self.sessions.remove(id);
        }
        entity
    }

    /// `DELETE /api/v1/users/{id}`: deactivates a user who is not
    /// `DEPROVISIONED` yet; deletes one who is. Everything of the user goes:
    /// memberships, app assignments, factors, sessions.
    pub fn delete_user(&mut self, now: DateTime<Utc>, ctx: &Ctx, id: &str) -> ApiResult<()> {
        let id = self.user_id(id)?;
        if self.users[&id].status != "DEPROVISIONED" {
            return self.lifecycle(now, ctx, &id, "deactivate");
        }
        let entity = self.users[&id].entity();
        let user = self.users.shift_remove(&id).expect("looked up");
        self.user_ids.remove(&id);
        self.logins.remove(&user.login().to_lowercase());
        for group in self.user_groups.remove(&id).unwrap_or_default() {
            if let Some(m) = self.members.get_mut(&group) {
                m.shift_remove(&id);
            }
            self.rule_memberships.remove(&(group, id.clone()));
        }
        for app in self.apps.values_mut() {
            app.users.shift_remove(&id);
        }
        self.factors.remove(&id);
        self.sessions.remove(&id);
        self.oauth_grants.remove(&id);
        self.emit_by(
            now,
            ctx,
            "user.lifecycle.delete.initiated",
            "Delete Okta user",
            vec![entity],
            Map::new(),
        );
        Ok(())
    }

    /// `POST /api/v1/users/{id}/lifecycle/expire_password` (and its
    /// `_with_temp_password` form, which answers a temporary password): the
    /// user must change the password at the next sign-in.
    pub fn expire_password(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        temp_password: bool,
        revoke_sessions: bool,
    ) -> ApiResult<Option<String>> {
        let id = self.user_id(id)?;
        let user = &self.users[&id];
        if !matches!(
            user.status.as_str(),
            "ACTIVE" | "PASSWORD_EXPIRED" | "RECOVERY"
        ) || !user.has_password
        {
            return Err(ApiError::not_allowed_in_status());
        }
        let temp = temp_password.then(|| self.random_token(8));
        let user = self.users.get_mut(&id).expect("looked up");
        if temp.is_some() {
            user.password_changed = Some(now);
        }
        let entity = self.password_status(&id, "PASSWORD_EXPIRED", revoke_sessions, now);
        self.emit_by(
            now,
            ctx,
            "user.account.expire_password",
            "Expire user password",
            vec![entity],
            Map::new(),
        );
        Ok(temp)
    }

    /// `POST /api/v1/users/{id}/lifecycle/reset_password`: the user is in
    /// `RECOVERY` until they set a new password with the one-time token
    /// returned.
    pub fn reset_password(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        revoke_sessions: bool,
    ) -> ApiResult<String> {
        let id = self.user_id(id)?;
        if !matches!(
            self.users[&id].status.as_str(),
            "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY"
        ) {
            return Err(ApiError::not_allowed_in_status());
        }
        let token = self.random_token(20);
        let entity = self.password_status(&id, "RECOVERY", revoke_sessions, now);
        self.emit_by(
            now,
            ctx,
            "user.account.reset_password",
            "Reset password for Okta user",
            vec![entity],
            Map::new(),
        );
        Ok(token)
    }

    /// `POST /api/v1/users/{id}/lifecycle/reset_factors`: every factor goes;
    /// the status stays.
    pub fn reset_factors(&mut self, now: DateTime<Utc>, ctx: &Ctx, id: &str) -> ApiResult<()> {
        let id = self.user_id(id)?;
        if self.users[&id].status == "DEPROVISIONED" {
            return Err(ApiError::not_allowed_in_status());
        }
        let reset = self.factors.remove(&id).unwrap_or_default();
        let entity = self.users[&id].entity();
        let mut debug = Map::new();
        debug.insert(
            "factors".into(),
            json!(
                reset
                    .iter()
                    .map(|f| f.factor_type.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
        self.emit_by(
            now,
            ctx,
            "user.mfa.factor.reset_all",
            "Reset all factors for user",
            vec![entity],
            debug,
        );
        Ok(())
    }

    /// `DELETE /api/v1/users/{userId}/factors/{factorId}`. Unenrolling Okta
    /// Verify `push` unenrolls the user's other Okta Verify factor (`totp`)
    /// with it, as Okta's spec notes.
    pub fn unenroll_factor(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        user: &str,
        factor: &str,
    ) -> ApiResult<()> {
        let id = self.user_id(user)?;
        if self.users[&id].status == "DEPROVISIONED" {
            return Err(ApiError::not_allowed_in_status());
        }
        let factors = self.factors.get(&id).cloned().unwrap_or_default();
        let Some(target) = factors.iter().find(|f| f.id == factor) else {
            return Err(ApiError::not_found(factor, "UserFactor"));
        };
        let gone: Vec<_> = factors
            .iter()
            .filter(|f| {
                f.id == target.id
                    || (target.factor_type == "push"
                        && f.provider == "OKTA"
                        && f.factor_type == "token:software:totp")
            })
            .cloned()
            .collect();
        if let Some(fs) = self.factors.get_mut(&id) {
            fs.retain(|f| !gone.iter().any(|g| g.id == f.id));
        }
        let entity = self.users[&id].entity();
        for f in gone {
            let mut debug = Map::new();
            debug.insert("factor".into(), json!(f.factor_type));
            debug.insert("factorId".into(), json!(f.id));
            self.emit_by(
                now,
                ctx,
                "user.mfa.factor.deactivate",
                "Reset factor for user",
                vec![entity.clone()],
                debug,
            );
        }
        Ok(())
    }
}
