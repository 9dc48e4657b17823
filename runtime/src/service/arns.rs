//! Which of the caller's resources an ARN names. Another tenant's or region's ARN reads as
//! absent, never as forbidden: nothing leaks across tenants, not even existence.

use super::{Error, Result};
use crate::arn::{Arn, Qualifier};
use crate::model::ExecutionKey;
use crate::tenants::Tenant;

/// The name of the state machine `arn` names, if it is the caller's and unqualified (a
/// version's or alias's ARN does not name the machine itself, as on AWS).
///
/// # Errors
/// [`Error::InvalidArn`], [`Error::WrongResource`] for an execution ARN,
/// [`Error::StateMachineDoesNotExist`] for another tenant's or region's, or a qualified one.
pub fn machine_name(region: &str, tenant: &Tenant, arn: &str) -> Result<String> {
    machine_name_in(region, &tenant.account, arn)
}

/// [`machine_name`] for the tenant with `account`.
///
/// # Errors
/// As [`machine_name`].
pub fn machine_name_in(region: &str, account: &str, arn: &str) -> Result<String> {
    match machine_target_in(region, account, arn)? {
        (name, None) => Ok(name),
        (_, Some(_)) => Err(Error::StateMachineDoesNotExist(arn.to_string())),
    }
}

/// The state machine `arn` names, if it is the caller's, and the version or alias its
/// qualifier names, if any.
///
/// # Errors
/// As [`machine_name`], but a qualified ARN is fine.
pub fn machine_target_in(
    region: &str,
    account: &str,
    arn: &str,
) -> Result<(String, Option<Qualifier>)> {
    match Arn::parse(arn)? {
        Arn::StateMachine {
            region: r,
            account: a,
            name,
        } if r == region && a == account => Ok((name, None)),
        Arn::Qualified {
            region: r,
            account: a,
            name,
            qualifier,
        } if r == region && a == account => Ok((name, Some(qualifier))),
        Arn::StateMachine { .. } | Arn::Qualified { .. } => {
            Err(Error::StateMachineDoesNotExist(arn.to_string()))
        }
        Arn::Execution { .. } => Err(Error::WrongResource {
            kind: "execution",
            arn: arn.to_string(),
        }),
        Arn::Activity { .. } => Err(Error::WrongResource {
            kind: "activity",
            arn: arn.to_string(),
        }),
    }
}

/// The name of the activity `arn` names, if it is the caller's.
///
/// # Errors
/// [`Error::InvalidArn`], [`Error::WrongResource`] for another kind of ARN,
/// [`Error::ActivityDoesNotExist`] for another tenant's or region's.
pub fn activity_name(region: &str, tenant: &Tenant, arn: &str) -> Result<String> {
    match Arn::parse(arn)? {
        Arn::Activity {
            region: r,
            account,
            name,
        } if r == region && account == tenant.account => Ok(name),
        Arn::Activity { .. } => Err(Error::ActivityDoesNotExist(arn.to_string())),
        Arn::StateMachine { .. } | Arn::Qualified { .. } => Err(Error::WrongResource {
            kind: "stateMachine",
            arn: arn.to_string(),
        }),
        Arn::Execution { .. } => Err(Error::WrongResource {
            kind: "execution",
            arn: arn.to_string(),
        }),
    }
}

/// The key of the execution `arn` names, if it is the caller's, and whether it is an
/// Express execution (those are not stored).
///
/// # Errors
/// [`Error::InvalidArn`], [`Error::WrongResource`] for a state machine ARN,
/// [`Error::ExecutionDoesNotExist`] for another tenant's or region's.
pub fn execution_key(region: &str, tenant: &Tenant, arn: &str) -> Result<(ExecutionKey, bool)> {
    match Arn::parse(arn)? {
        Arn::Execution {
            region: r,
            account,
            machine,
            name,
            express,
        } if r == region && account == tenant.account => Ok((
            ExecutionKey {
                tenant: tenant.id.clone(),
                machine,
                name,
            },
            express,
        )),
        Arn::Execution { .. } => Err(Error::ExecutionDoesNotExist(arn.to_string())),
        Arn::StateMachine { .. } | Arn::Qualified { .. } => Err(Error::WrongResource {
            kind: "stateMachine",
            arn: arn.to_string(),
        }),
        Arn::Activity { .. } => Err(Error::WrongResource {
            kind: "activity",
            arn: arn.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenants::default_tenant;

    #[test]
    fn other_tenants_and_regions_read_as_absent() {
        let me = default_tenant();
        let mine = "arn:aws:states:us-east-1:000000000000:stateMachine:orders";
        assert_eq!(machine_name("us-east-1", &me, mine).unwrap(), "orders");
        let theirs = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        assert_eq!(
            machine_name("us-east-1", &me, theirs)
                .unwrap_err()
                .to_string(),
            format!("State Machine Does Not Exist: '{theirs}'")
        );
        assert!(matches!(
            machine_name("eu-west-1", &me, mine),
            Err(Error::StateMachineDoesNotExist(_))
        ));
        let run = "arn:aws:states:us-east-1:000000000000:express:orders:r1";
        let (key, express) = execution_key("us-east-1", &me, run).unwrap();
        assert_eq!(
            (key.machine.as_str(), key.name.as_str(), express),
            ("orders", "r1", true)
        );
        assert_eq!(
            machine_name("us-east-1", &me, run).unwrap_err().to_string(),
            format!("Invalid Arn: 'Resource type not valid in this context: execution' ({run})")
        );
        assert_eq!(
            execution_key("us-east-1", &me, "nope")
                .unwrap_err()
                .to_string(),
            "Invalid Arn: 'nope'"
        );
    }
}
