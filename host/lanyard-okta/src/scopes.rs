//! Which grant each `okta` operation needs, and which Okta OAuth scopes the
//! service app must hold to perform it.
//!
//! Two different things: a card's grant ([`OktaScope`], lanyard's own, checked
//! by the runtime before the call) and the service app's Okta scopes (checked by
//! Okta). The Okta scopes are the ones Okta's Management API spec lists for each
//! endpoint the operation calls (compare-before-write reads included).

use lanyard_core::okta::OktaScope;
use std::collections::BTreeSet;

/// The operations of the WIT `okta` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    GetUser,
    ListUsers,
    CreateUser,
    UpdateProfile,
    GetManager,
    Lifecycle,
    ListUserGroups,
    FindGroup,
    AddToGroup,
    RemoveFromGroup,
    ClearSessions,
    ListFactors,
    ListAppLinks,
    QueryLogs,
}

impl Operation {
    pub const ALL: [Operation; 14] = [
        Operation::GetUser,
        Operation::ListUsers,
        Operation::CreateUser,
        Operation::UpdateProfile,
        Operation::GetManager,
        Operation::Lifecycle,
        Operation::ListUserGroups,
        Operation::FindGroup,
        Operation::AddToGroup,
        Operation::RemoveFromGroup,
        Operation::ClearSessions,
        Operation::ListFactors,
        Operation::ListAppLinks,
        Operation::QueryLogs,
    ];

    /// The WIT function name.
    pub fn wit_name(self) -> &'static str {
        match self {
            Operation::GetUser => "get-user",
            Operation::ListUsers => "list-users",
            Operation::CreateUser => "create-user",
            Operation::UpdateProfile => "update-profile",
            Operation::GetManager => "get-manager",
            Operation::Lifecycle => "lifecycle",
            Operation::ListUserGroups => "list-user-groups",
            Operation::FindGroup => "find-group",
            Operation::AddToGroup => "add-to-group",
            Operation::RemoveFromGroup => "remove-from-group",
            Operation::ClearSessions => "clear-sessions",
            Operation::ListFactors => "list-factors",
            Operation::ListAppLinks => "list-app-links",
            Operation::QueryLogs => "query-logs",
        }
    }

    pub fn from_wit_name(name: &str) -> Option<Operation> {
        Self::ALL.into_iter().find(|o| o.wit_name() == name)
    }

    /// The grant a card needs for this operation (as `wit/card.wit` documents).
    pub fn grant(self) -> OktaScope {
        match self {
            Operation::GetUser | Operation::ListUsers | Operation::GetManager => {
                OktaScope::UsersRead
            }
            Operation::CreateUser | Operation::UpdateProfile => OktaScope::UsersManage,
            Operation::Lifecycle => OktaScope::UsersLifecycle,
            Operation::ListUserGroups | Operation::FindGroup => OktaScope::GroupsRead,
            Operation::AddToGroup | Operation::RemoveFromGroup => OktaScope::GroupsManage,
            Operation::ClearSessions => OktaScope::SessionsManage,
            Operation::ListFactors => OktaScope::FactorsRead,
            Operation::ListAppLinks => OktaScope::AppsRead,
            Operation::QueryLogs => OktaScope::LogsRead,
        }
    }

    /// The Okta OAuth scopes the service app needs for this operation.
    pub fn okta_oauth_scopes(self) -> &'static [&'static str] {
        match self {
            Operation::GetUser
            | Operation::ListUsers
            | Operation::GetManager
            | Operation::ListFactors
            | Operation::ListAppLinks => &["okta.users.read"],
            Operation::CreateUser
            | Operation::UpdateProfile
            | Operation::Lifecycle
            | Operation::ClearSessions => &["okta.users.read", "okta.users.manage"],
            Operation::ListUserGroups => &["okta.users.read"],
            Operation::FindGroup => &["okta.groups.read"],
            Operation::AddToGroup | Operation::RemoveFromGroup => {
                &["okta.users.read", "okta.groups.manage"]
            }
            Operation::QueryLogs => &["okta.logs.read"],
        }
    }
}

/// The Okta OAuth scopes a service app needs so that every operation these
/// grants allow can succeed: what to put in [`crate::PrivateKeyJwt::scopes`].
pub fn oauth_scopes_for(grants: &BTreeSet<OktaScope>) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = Operation::ALL
        .into_iter()
        .filter(|op| grants.contains(&op.grant()))
        .flat_map(|op| op.okta_oauth_scopes().iter().copied())
        .collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_is_needed_by_some_operation() {
        for scope in OktaScope::ALL {
            assert!(Operation::ALL.iter().any(|o| o.grant() == scope), "{scope}");
        }
        for op in Operation::ALL {
            assert_eq!(Operation::from_wit_name(op.wit_name()), Some(op));
        }
    }

    #[test]
    fn service_app_scopes_follow_the_grants() {
        let grants: BTreeSet<_> = [OktaScope::GroupsManage].into_iter().collect();
        assert_eq!(
            oauth_scopes_for(&grants),
            vec!["okta.groups.manage", "okta.users.read"]
        );
        assert!(oauth_scopes_for(&BTreeSet::new()).is_empty());
    }
}
