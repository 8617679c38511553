//! `okta.deactivate-group-rule`: switches a group rule off. Okta keeps the
//! memberships the rule made; it stops adding users.

use builtin_kit::okta::{RuleInput, RuleStateOutput, set_rule_active};
use lanyard_sdk::prelude::*;

struct DeactivateGroupRule;

impl Card for DeactivateGroupRule {
    const NAME: &'static str = "okta.deactivate-group-rule";
    const DESCRIPTION: &'static str = "Deactivates an Okta group rule (by id or exact name): it stops adding users to its groups. Output: `outcome` (`unchanged` if it was inactive), `rule_id`.";
    type Input = RuleInput;
    type Output = RuleStateOutput;

    fn grants() -> Vec<Grant> {
        // groups.read only to look a name up.
        vec![Grant::okta("okta.groups.read"), Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: RuleInput) -> Result<RuleStateOutput, CardError> {
        set_rule_active(&input.rule, false)
    }
}

lanyard_sdk::export_card!(DeactivateGroupRule);
