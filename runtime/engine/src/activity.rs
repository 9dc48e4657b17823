//! Activity ARNs as Task resources: a Task whose `Resource` is
//! `arn:<partition>:states:<region>:<account>:activity:<name>` is handed to workers that
//! poll for it, and records `Activity*` events where other tasks record `Task*` ones.

/// The parts of an activity ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityArn<'a> {
    /// The region.
    pub region: &'a str,
    /// The account.
    pub account: &'a str,
    /// The activity's name.
    pub name: &'a str,
}

/// The activity `resource` names, if it is an activity ARN.
pub fn activity_arn(resource: &str) -> Option<ActivityArn<'_>> {
    let mut parts = resource.splitn(7, ':');
    let fields: [&str; 7] = std::array::from_fn(|_| parts.next().unwrap_or(""));
    match fields {
        ["arn", partition, "states", region, account, "activity", name]
            if partition.starts_with("aws")
                && !region.is_empty()
                && !account.is_empty()
                && !name.is_empty()
                && !name.contains(':') =>
        {
            Some(ActivityArn {
                region,
                account,
                name,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_activity_arns_are_activities() {
        let a = activity_arn("arn:aws:states:us-east-1:000000000000:activity:approve").unwrap();
        assert_eq!(
            (a.region, a.account, a.name),
            ("us-east-1", "000000000000", "approve")
        );
        for other in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:states:us-east-1:000000000000:stateMachine:m",
            "arn:aws:states:us-east-1:000000000000:activity:",
            "arn:aws:states:us-east-1:000000000000:activity:a:b",
            "arn:aws:lambda:us-east-1:000000000000:function:f",
        ] {
            assert_eq!(activity_arn(other), None, "{other}");
        }
    }
}
