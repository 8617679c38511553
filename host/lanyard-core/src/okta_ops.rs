//! The operation → grant table of the `okta` capability: every function of the
//! WIT `okta` interface (but `api-call`, which `okta_api` gates by Okta's own
//! spec) and the [`OktaScope`] a card must hold to call it.
//!
//! The one place this mapping lives: the card runtime checks a call against
//! it, and [`crate::okta::OktaWrite::scope`] answers from it. It says nothing
//! about how an operation is performed, and nothing about the OAuth scopes the
//! host's own Okta service app holds (Okta checks those).

use crate::okta::{OktaScope, OktaWrite};

/// The operations of the WIT `okta` interface that a grant gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OktaOp {
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

impl OktaOp {
    pub const ALL: [OktaOp; 32] = [
        OktaOp::GetUser,
        OktaOp::ListUsers,
        OktaOp::CreateUser,
        OktaOp::UpdateProfile,
        OktaOp::GetManager,
        OktaOp::Lifecycle,
        OktaOp::ListUserGroups,
        OktaOp::FindGroup,
        OktaOp::AddToGroup,
        OktaOp::RemoveFromGroup,
        OktaOp::ClearSessions,
        OktaOp::ListFactors,
        OktaOp::ListAppLinks,
        OktaOp::QueryLogs,
        OktaOp::ListUsersPage,
        OktaOp::DeleteUser,
        OktaOp::ExpirePassword,
        OktaOp::ResetPassword,
        OktaOp::ResetFactors,
        OktaOp::ResetFactor,
        OktaOp::FindApp,
        OktaOp::ListAppUsers,
        OktaOp::ListAppGroups,
        OktaOp::AssignApp,
        OktaOp::UnassignApp,
        OktaOp::CreateGroup,
        OktaOp::UpdateGroup,
        OktaOp::DeleteGroup,
        OktaOp::ListGroupMembers,
        OktaOp::FindGroupRule,
        OktaOp::CreateGroupRule,
        OktaOp::SetGroupRuleActive,
    ];

    /// The WIT function's name, as denials and the host's spans name it.
    pub fn wit_name(self) -> &'static str {
        match self {
            OktaOp::GetUser => "get-user",
            OktaOp::ListUsers => "list-users",
            OktaOp::CreateUser => "create-user",
            OktaOp::UpdateProfile => "update-profile",
            OktaOp::GetManager => "get-manager",
            OktaOp::Lifecycle => "lifecycle",
            OktaOp::ListUserGroups => "list-user-groups",
            OktaOp::FindGroup => "find-group",
            OktaOp::AddToGroup => "add-to-group",
            OktaOp::RemoveFromGroup => "remove-from-group",
            OktaOp::ClearSessions => "clear-sessions",
            OktaOp::ListFactors => "list-factors",
            OktaOp::ListAppLinks => "list-app-links",
            OktaOp::QueryLogs => "query-logs",
            OktaOp::ListUsersPage => "list-users-page",
            OktaOp::DeleteUser => "delete-user",
            OktaOp::ExpirePassword => "expire-password",
            OktaOp::ResetPassword => "reset-password",
            OktaOp::ResetFactors => "reset-factors",
            OktaOp::ResetFactor => "reset-factor",
            OktaOp::FindApp => "find-app",
            OktaOp::ListAppUsers => "list-app-users",
            OktaOp::ListAppGroups => "list-app-groups",
            OktaOp::AssignApp => "assign-app",
            OktaOp::UnassignApp => "unassign-app",
            OktaOp::CreateGroup => "create-group",
            OktaOp::UpdateGroup => "update-group",
            OktaOp::DeleteGroup => "delete-group",
            OktaOp::ListGroupMembers => "list-group-members",
            OktaOp::FindGroupRule => "find-group-rule",
            OktaOp::CreateGroupRule => "create-group-rule",
            OktaOp::SetGroupRuleActive => "set-group-rule-active",
        }
    }

    pub fn from_wit_name(name: &str) -> Option<OktaOp> {
        Self::ALL.into_iter().find(|o| o.wit_name() == name)
    }

    /// The grant a card needs for this operation (as `wit/card.wit` documents).
    pub fn grant(self) -> OktaScope {
        match self {
            OktaOp::GetUser | OktaOp::ListUsers | OktaOp::GetManager | OktaOp::ListUsersPage => OktaScope::UsersRead,
            OktaOp::CreateUser | OktaOp::UpdateProfile => OktaScope::UsersManage,
            OktaOp::Lifecycle | OktaOp::DeleteUser => OktaScope::UsersLifecycle,
            OktaOp::ExpirePassword | OktaOp::ResetPassword => OktaScope::UsersCredentials,
            OktaOp::ListUserGroups | OktaOp::FindGroup | OktaOp::ListGroupMembers | OktaOp::FindGroupRule => {
                OktaScope::GroupsRead
            }
            OktaOp::AddToGroup | OktaOp::RemoveFromGroup => OktaScope::GroupsManage,
            OktaOp::CreateGroup
            | OktaOp::UpdateGroup
            | OktaOp::DeleteGroup
            | OktaOp::CreateGroupRule
            | OktaOp::SetGroupRuleActive => OktaScope::GroupsAdmin,
            OktaOp::ClearSessions => OktaScope::SessionsManage,
            OktaOp::ListFactors => OktaScope::FactorsRead,
            OktaOp::ResetFactors | OktaOp::ResetFactor => OktaScope::FactorsManage,
            OktaOp::ListAppLinks | OktaOp::FindApp | OktaOp::ListAppUsers | OktaOp::ListAppGroups => {
                OktaScope::AppsRead
            }
            OktaOp::AssignApp | OktaOp::UnassignApp => OktaScope::AppsManage,
            OktaOp::QueryLogs => OktaScope::LogsRead,
        }
    }

    /// The operation a compare-before-write is.
    pub fn of_write(write: &OktaWrite) -> OktaOp {
        match write {
            OktaWrite::Lifecycle { .. } => OktaOp::Lifecycle,
            OktaWrite::AddToGroup { .. } => OktaOp::AddToGroup,
            OktaWrite::RemoveFromGroup { .. } => OktaOp::RemoveFromGroup,
            OktaWrite::DeleteUser { .. } => OktaOp::DeleteUser,
            OktaWrite::ExpirePassword { .. } => OktaOp::ExpirePassword,
            OktaWrite::ResetFactors { .. } => OktaOp::ResetFactors,
            OktaWrite::ResetFactor { .. } => OktaOp::ResetFactor,
            OktaWrite::AssignApp { .. } => OktaOp::AssignApp,
            OktaWrite::UnassignApp { .. } => OktaOp::UnassignApp,
            OktaWrite::UpdateGroup { .. } => OktaOp::UpdateGroup,
            OktaWrite::DeleteGroup { .. } => OktaOp::DeleteGroup,
            OktaWrite::SetGroupRuleActive { .. } => OktaOp::SetGroupRuleActive,
        }
    }
}

impl std::fmt::Display for OktaOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wit_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_is_needed_by_some_operation() {
        for scope in OktaScope::ALL {
            assert!(OktaOp::ALL.iter().any(|o| o.grant() == scope), "{scope}");
        }
    }

    #[test]
    fn names_round_trip() {
        for op in OktaOp::ALL {
            assert_eq!(OktaOp::from_wit_name(op.wit_name()), Some(op));
        }
        assert_eq!(OktaOp::from_wit_name("api-call"), None);
    }

    /// The table covers the WIT: every `okta` function but `api-call` has a
    /// row, and every row is a function (taken from the WIT file, not from
    /// this code).
    #[test]
    fn the_table_is_the_wit_interface() {
        let wit = include_str!("../../../wit/card.wit");
        let body = wit.split("interface okta {").nth(1).expect("wit/card.wit has `interface okta`");
        let body = &body[..body.find("\ninterface ").unwrap_or(body.len())];
        let functions: Vec<&str> = body
            .lines()
            .filter_map(|l| l.trim().split_once(": func(").map(|(name, _)| name))
            .filter(|name| *name != "api-call")
            .collect();
        let named: Vec<&str> = OktaOp::ALL.iter().map(|o| o.wit_name()).collect();
        assert_eq!(functions, named);
    }
}
