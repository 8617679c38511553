//! [`OktaApi`] on top of [`OktaClient`]: what the card runtime calls after it has
//! checked a card's grants.
//!
//! Every write compares before writing. Setting a profile attribute to the value
//! it has, adding a member who is there, removing one who is not, or moving a
//! user to the state it is in sends nothing to Okta and reports
//! [`WriteOutcome::Unchanged`], so it raises no System Log event and no flow
//! triggers on it: the seed's infinite-loop warning, handled at the source.
//! A transition sent reports [`WriteOutcome::Changed`], also when its answer
//! was lost and the client confirmed it by reading the user after Okta refused
//! the resend (the first attempt made the change; a change by someone else in
//! that same window cannot be told apart).
//! Grants are not checked here (the runtime does that).

use async_trait::async_trait;
use lanyard_core::okta::{
    AppLink, Factor, Group, LifecycleOp, LogQuery, OktaApi, ProfileUpdate, User, UserQuery,
};
use lanyard_core::{CardError, WriteOutcome};
use serde_json::{Map, Value};

use crate::OktaClient;
use crate::client::lifecycle_reached;

/// The `okta` capability for one org.
#[derive(Clone)]
pub struct OktaCapability {
    client: OktaClient,
}

impl OktaCapability {
    pub fn new(client: OktaClient) -> Self {
        OktaCapability { client }
    }

    pub fn client(&self) -> &OktaClient {
        &self.client
    }
}

/// The attributes of `changes` whose values differ from `profile` (an absent
/// attribute equals `null`).
pub fn profile_diff(
    profile: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Map<String, Value> {
    changes
        .iter()
        .filter(|(k, v)| profile.get(*k).unwrap_or(&Value::Null) != *v)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_id(what: &str, id: &str) -> Result<(), CardError> {
    if id.trim().is_empty() {
        return Err(CardError::invalid_input(format!(
            "okta: the {what} is empty"
        )));
    }
    Ok(())
}

#[async_trait]
impl OktaApi for OktaCapability {
    async fn get_user(&self, id_or_login: &str) -> Result<User, CardError> {
        check_id("user id or login", id_or_login)?;
        self.client.get_user(id_or_login).await.map_err(|e| {
            if e.is_not_found() {
                CardError::not_found(format!("okta user `{id_or_login}` not found"))
                    .with_detail(e.to_string())
            } else {
                e.into()
            }
        })
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, CardError> {
        Ok(self.client.list_users(query).await?)
    }

    async fn create_user(
        &self,
        profile: &Map<String, Value>,
        activate: bool,
        group_ids: &[String],
    ) -> Result<User, CardError> {
        for key in ["login", "email", "firstName", "lastName"] {
            if profile
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(CardError::invalid_input(format!(
                    "okta: a new user's profile needs `{key}` (login, email, firstName and lastName are required)"
                )));
            }
        }
        Ok(self
            .client
            .create_user(profile, activate, group_ids)
            .await?)
    }

    async fn update_profile(
        &self,
        user_id: &str,
        changes: &Map<String, Value>,
    ) -> Result<ProfileUpdate, CardError> {
        check_id("user id", user_id)?;
        let user = self.get_user(user_id).await?;
        let diff = profile_diff(&user.profile, changes);
        if diff.is_empty() {
            return Ok(ProfileUpdate {
                outcome: WriteOutcome::Unchanged,
                user,
            });
        }
        // Send only what differs: an unchanged attribute in the request would
        // still show in Okta's changed-attributes list of the event.
        let user = self.client.update_profile(&user.id, &diff).await?;
        Ok(ProfileUpdate {
            outcome: WriteOutcome::Changed,
            user,
        })
    }

    async fn get_manager(&self, user_id: &str) -> Result<Option<User>, CardError> {
        let user = self.get_user(user_id).await?;
        let Some(manager_id) = user
            .profile
            .get("managerId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        match self.client.get_user(manager_id).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn lifecycle(&self, user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
        let user = self.get_user(user_id).await?;
        if lifecycle_reached(&user.status, op) {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client.lifecycle(&user.id, op).await?;
        Ok(WriteOutcome::Changed)
    }

    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_user_groups(user_id).await?)
    }

    async fn find_group(&self, name: &str) -> Result<Option<Group>, CardError> {
        check_id("group name", name)?;
        Ok(self.client.find_group(name).await?)
    }

    async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
        check_id("group id", group_id)?;
        check_id("user id", user_id)?;
        let groups = self.client.list_user_groups(user_id).await?;
        if groups.iter().any(|g| g.id == group_id) {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client.add_user_to_group(group_id, user_id).await?;
        Ok(WriteOutcome::Changed)
    }

    async fn remove_from_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<WriteOutcome, CardError> {
        check_id("group id", group_id)?;
        check_id("user id", user_id)?;
        let groups = self.client.list_user_groups(user_id).await?;
        if !groups.iter().any(|g| g.id == group_id) {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client
            .remove_user_from_group(group_id, user_id)
            .await?;
        Ok(WriteOutcome::Changed)
    }

    async fn clear_sessions(&self, user_id: &str, oauth_tokens: bool) -> Result<(), CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.clear_sessions(user_id, oauth_tokens).await?)
    }

    async fn list_factors(&self, user_id: &str) -> Result<Vec<Factor>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_factors(user_id).await?)
    }

    async fn list_app_links(&self, user_id: &str) -> Result<Vec<AppLink>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_app_links(user_id).await?)
    }

    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<Value>, CardError> {
        Ok(self.client.query_logs(query).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_differing_attributes_are_written() {
        let profile = json!({"title": "Engineer", "department": "Engineering", "nickName": null});
        let profile = profile.as_object().unwrap();
        let same = json!({"title": "Engineer", "nickName": null, "missing": null});
        assert!(profile_diff(profile, same.as_object().unwrap()).is_empty());
        let changes = json!({"title": "Staff Engineer", "department": "Engineering"});
        let diff = profile_diff(profile, changes.as_object().unwrap());
        assert_eq!(Value::Object(diff), json!({"title": "Staff Engineer"}));
    }
}
