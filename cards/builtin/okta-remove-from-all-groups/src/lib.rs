//! `okta.remove-from-all-groups`: the offboarding sweep. Removes a user from
//! every group whose members an API client may change, skipping the ones Okta
//! manages itself (BUILT_IN `Everyone`, APP_GROUPs fed by an app) and any the
//! flow says to keep, and reports what happened to each group.
//!
//! It tries every group before it fails, so one refused group does not leave
//! the rest untouched; a retry then only meets the groups still left (removing
//! a member who is gone is `unchanged`).

use builtin_kit::okta::{members_managed_by_okta, user_id};
use builtin_kit::{GroupRef, Outcome, UserRef};
use lanyard_sdk::okta::Group;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const MAX_KEEP: usize = 1_000;

/// Whom to remove, and which groups to leave alone.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// Groups to stay in, by id or exact name (for example `["Alumni"]`).
    #[serde(default)]
    keep: Vec<GroupRef>,
}

/// What happened to one group.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum GroupOutcome {
    /// The user was removed.
    Changed,
    /// The user was no longer a member (removed meanwhile).
    Unchanged,
    /// Left alone; `reason` says why.
    Skipped,
}

/// One group the user was in.
#[derive(Serialize, JsonSchema)]
struct GroupResult {
    #[serde(flatten)]
    group: Group,
    outcome: GroupOutcome,
    /// Why a group was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// What the sweep did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `changed` if the user was removed from at least one group.
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// How many groups the user was removed from.
    removed: usize,
    /// The names of the groups the user was removed from.
    removed_names: Vec<String>,
    /// How many groups were left alone (managed by Okta, or kept).
    skipped: usize,
    /// Every group the user was in, with what happened to it.
    groups: Vec<GroupResult>,
}

struct RemoveFromAllGroups;

fn kept(keep: &[GroupRef], g: &Group) -> bool {
    keep.iter().any(|k| match k {
        GroupRef::Id(id) | GroupRef::Object { id, .. } => *id == g.id,
        GroupRef::Name(name) => *name == g.name,
    })
}

/// The error a failed sweep reports: retryable if any failure was, so the
/// engine's `retry` tries again for the groups still left.
fn sweep_error(user_id: &str, removed: usize, total: usize, failures: Vec<(Group, CardError)>) -> CardError {
    let retryable = failures.iter().any(|(_, e)| e.retryable);
    let lead = failures
        .iter()
        .find(|(_, e)| e.retryable == retryable)
        .map(|(_, e)| e.kind)
        .unwrap_or(ErrorKind::Internal);
    let retry_after_ms = failures.iter().filter_map(|(_, e)| e.retry_after_ms).max();
    let listed: Vec<String> = failures
        .iter()
        .take(10)
        .map(|(g, e)| format!("{} ({}: {})", g.name, builtin_kit::kind_name(e.kind), e.message))
        .collect();
    let more = failures.len().saturating_sub(listed.len());
    let mut message = format!(
        "removed user {user_id} from {removed} of {total} groups; could not remove it from {}: {}",
        failures.len(),
        listed.join("; ")
    );
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    let mut e = CardError::new(lead, message).retryable(retryable);
    e.retry_after_ms = retry_after_ms;
    e
}

impl Card for RemoveFromAllGroups {
    const NAME: &'static str = "okta.remove-from-all-groups";
    const DESCRIPTION: &'static str = "Removes an Okta user from every group it is in, except BUILT_IN and APP_GROUP groups (Okta manages those) and the groups in `keep`. Output: `outcome`, `removed` (a count), `removed_names`, `skipped` and `groups`, each with its `outcome` (changed, unchanged or skipped).";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        builtin_kit::okta::membership_grants()
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        if input.keep.len() > MAX_KEEP {
            return Err(CardError::invalid_input(format!(
                "`keep` lists {} groups, over the limit of {MAX_KEEP}",
                input.keep.len()
            )));
        }
        let user_id = user_id(&input.user)?;
        let groups = okta::list_user_groups(&user_id)?;
        let total = groups.len();
        let mut results = Vec::with_capacity(total);
        let mut failures = Vec::new();
        let (mut removed, mut skipped) = (0, 0);
        let mut removed_names = Vec::new();
        for group in groups {
            let skip = if members_managed_by_okta(&group.group_type) {
                Some(format!("{} group: Okta manages its members", group.group_type))
            } else if kept(&input.keep, &group) {
                Some("in `keep`".to_string())
            } else {
                None
            };
            let (outcome, reason) = match skip {
                Some(reason) => {
                    skipped += 1;
                    (GroupOutcome::Skipped, Some(reason))
                }
                None => match okta::remove_from_group(&group.id, &user_id) {
                    Ok(WriteOutcome::Changed) => {
                        removed += 1;
                        removed_names.push(group.name.clone());
                        (GroupOutcome::Changed, None)
                    }
                    Ok(WriteOutcome::Unchanged) => (GroupOutcome::Unchanged, None),
                    Err(e) => {
                        lanyard_sdk::warn!("could not remove {user_id} from {}: {}", group.name, e.message);
                        failures.push((group, e));
                        continue;
                    }
                },
            };
            results.push(GroupResult { group, outcome, reason });
        }
        if !failures.is_empty() {
            return Err(sweep_error(&user_id, removed, total, failures));
        }
        lanyard_sdk::info!("removed {user_id} from {removed} groups, skipped {skipped}");
        Ok(Out {
            outcome: if removed > 0 { Outcome::Changed } else { Outcome::Unchanged },
            user_id,
            removed,
            removed_names,
            skipped,
            groups: results,
        })
    }
}

lanyard_sdk::export_card!(RemoveFromAllGroups);
