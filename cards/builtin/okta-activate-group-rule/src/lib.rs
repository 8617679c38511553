//! `okta.activate-group-rule`: switches a group rule on, so Okta starts
//! putting the users it matches in its groups.

use builtin_kit::okta::{RuleInput, RuleStateOutput, set_rule_active};
use lanyard_sdk::prelude::*;

struct ActivateGroupRule;

impl Card for ActivateGroupRule {
    const NAME: &'static str = "okta.activate-group-rule";
    const DESCRIPTION: &'static str = "Activates an Okta group rule (by id or exact name): Okta then puts every user it matches in its groups. Output: `outcome` (`unchanged` if it was active), `rule_id`.";
    type Input = RuleInput;
    type Output = RuleStateOutput;

    fn grants() -> Vec<Grant> {
        // groups.read only to look a name up.
        vec![Grant::okta("okta.groups.read"), Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: RuleInput) -> Result<RuleStateOutput, CardError> {
        set_rule_active(&input.rule, true)
    }
}

lanyard_sdk::export_card!(ActivateGroupRule);
