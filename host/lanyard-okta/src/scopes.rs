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
    ListUsersPage,
    DeleteUser,
    ExpirePassword,
    ResetPassword,
    ResetFactors,
    ResetFactor,
    FindApp,
    ListAppUsers,
    ListAppGroups,
    AssignApp,
    UnassignApp,
    CreateGroup,
    UpdateGroup,
    DeleteGroup,
    ListGroupMembers,
    FindGroupRule,
    CreateGroupRule,
    SetGroupRuleActive,
}

impl Operation {
    pub const ALL: [Operation; 32] = [
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
        Operation::ListUsersPage,
        Operation::DeleteUser,
        Operation::ExpirePassword,
        Operation::ResetPassword,
        Operation::ResetFactors,
        Operation::ResetFactor,
        Operation::FindApp,
        Operation::ListAppUsers,
        Operation::ListAppGroups,
        Operation::AssignApp,
        Operation::UnassignApp,
        Operation::CreateGroup,
        Operation::UpdateGroup,
        Operation::DeleteGroup,
        Operation::ListGroupMembers,
        Operation::FindGroupRule,
        Operation::CreateGroupRule,
        Operation::SetGroupRuleActive,
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
            Operation::ListUsersPage => "list-users-page",
            Operation::DeleteUser => "delete-user",
            Operation::ExpirePassword => "expire-password",
            Operation::ResetPassword => "reset-password",
            Operation::ResetFactors => "reset-factors",
            Operation::ResetFactor => "reset-factor",
            Operation::FindApp => "find-app",
            Operation::ListAppUsers => "list-app-users",
            Operation::ListAppGroups => "list-app-groups",
            Operation::AssignApp => "assign-app",
            Operation::UnassignApp => "unassign-app",
            Operation::CreateGroup => "create-group",
            Operation::UpdateGroup => "update-group",
            Operation::DeleteGroup => "delete-group",
            Operation::ListGroupMembers => "list-group-members",
            Operation::FindGroupRule => "find-group-rule",
            Operation::CreateGroupRule => "create-group-rule",
            Operation::SetGroupRuleActive => "set-group-rule-active",
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
            Operation::ListUsersPage => OktaScope::UsersRead,
            Operation::DeleteUser => OktaScope::UsersLifecycle,
            Operation::ExpirePassword | Operation::ResetPassword => OktaScope::UsersCredentials,
            Operation::ResetFactors | Operation::ResetFactor => OktaScope::FactorsManage,
            Operation::FindApp | Operation::ListAppUsers | Operation::ListAppGroups => OktaScope::AppsRead,
            Operation::AssignApp | Operation::UnassignApp => OktaScope::AppsManage,
            Operation::ListGroupMembers | Operation::FindGroupRule => OktaScope::GroupsRead,
            Operation::CreateGroup
            | Operation::UpdateGroup
            | Operation::DeleteGroup
            | Operation::CreateGroupRule
            | Operation::SetGroupRuleActive => OktaScope::GroupsAdmin,
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
            Operation::ListUsersPage => &["okta.users.read"],
            Operation::DeleteUser
            | Operation::ExpirePassword
            | Operation::ResetPassword
            | Operation::ResetFactors
            | Operation::ResetFactor => &["okta.users.read", "okta.users.manage"],
            Operation::FindApp | Operation::ListAppUsers | Operation::ListAppGroups => &["okta.apps.read"],
            Operation::AssignApp | Operation::UnassignApp => &["okta.apps.read", "okta.apps.manage"],
            Operation::ListGroupMembers | Operation::FindGroupRule => &["okta.groups.read"],
            Operation::CreateGroup
            | Operation::UpdateGroup
            | Operation::DeleteGroup
            | Operation::CreateGroupRule
            | Operation::SetGroupRuleActive => &["okta.groups.read", "okta.groups.manage"],
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
