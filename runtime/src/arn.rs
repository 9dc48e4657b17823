//! ARNs as AWS spells them, and AWS's rules for the names inside them.

/// What a Step Functions ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arn {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`.
    StateMachine {
        /// The region.
        region: String,
        /// The 12-digit account.
        account: String,
        /// The state machine's name.
        name: String,
    },
    /// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME` (or `express:`).
    Execution {
        /// The region.
        region: String,
        /// The 12-digit account.
        account: String,
        /// The state machine's name.
        machine: String,
        /// The execution's name.
        name: String,
        /// Whether it is an Express execution ARN.
        express: bool,
    },
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:QUALIFIER`: one of a state
    /// machine's versions (a number) or aliases (a name with a non-digit).
    Qualified {
        /// The region.
        region: String,
        /// The 12-digit account.
        account: String,
        /// The state machine's name.
        name: String,
        /// The version or alias.
        qualifier: Qualifier,
    },
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    Activity {
        /// The region.
        region: String,
        /// The 12-digit account.
        account: String,
        /// The activity's name.
        name: String,
    },
}

/// What a qualified state machine ARN names besides the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    /// A published version, by number.
    Version(u64),
    /// An alias, by name.
    Alias(String),
}

impl Qualifier {
    /// Reads the qualifier of a state machine ARN: digits are a version (1 or more; AWS
    /// counts from 1), anything else must be an alias name.
    pub fn parse(text: &str) -> Option<Qualifier> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .map(Qualifier::Version);
        }
        valid_alias_name(text).then(|| Qualifier::Alias(text.to_string()))
    }
}

/// Why an ARN was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Arn: '{0}'")]
pub struct Error(pub String);

/// The machine part of an execution ARN: a state machine's name, or for a Distributed
/// Map's child `<machine>/<label>` (nested Maps add a label each).
fn valid_machine_of_execution(machine: &str) -> bool {
    machine.split('/').all(valid_name)
}

impl Arn {
    /// Parses an ARN.
    ///
    /// # Errors
    /// [`Error`] for anything that is not a state machine, execution or activity ARN.
    pub fn parse(text: &str) -> Result<Arn, Error> {
        let bad = || Error(text.to_string());
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["arn", partition, "states", region, account, "stateMachine", name]
                if partition.starts_with("aws")
                    && valid_account(account)
                    && !region.is_empty()
                    && valid_name(name) =>
            {
                Ok(Arn::StateMachine {
                    region: region.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                })
            }
            ["arn", partition, "states", region, account, "stateMachine", name, qualifier]
                if partition.starts_with("aws")
                    && valid_account(account)
                    && !region.is_empty()
                    && valid_name(name) =>
            {
                Ok(Arn::Qualified {
                    region: region.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                    qualifier: Qualifier::parse(qualifier).ok_or_else(bad)?,
                })
            }
            ["arn", partition, "states", region, account, "activity", name]
                if partition.starts_with("aws")
                    && valid_account(account)
                    && !region.is_empty()
                    && valid_name(name) =>
            {
                Ok(Arn::Activity {
                    region: region.to_string(),
                    account: account.to_string(),
                    name: name.to_string(),
                })
            }
            ["arn", partition, "states", region, account, kind @ ("execution" | "express"), machine, name]
                if partition.starts_with("aws")
                    && valid_account(account)
                    && !region.is_empty()
                    && valid_machine_of_execution(machine)
                    && valid_name(name) =>
            {
                Ok(Arn::Execution {
                    region: region.to_string(),
                    account: account.to_string(),
                    machine: machine.to_string(),
                    name: name.to_string(),
                    express: *kind == "express",
                })
            }
            _ => Err(bad()),
        }
    }
}

/// A state machine's ARN.
pub fn state_machine(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:stateMachine:{name}")
}

/// A state machine version's ARN: the machine's ARN and the number.
pub fn version(machine_arn: &str, number: u64) -> String {
    format!("{machine_arn}:{number}")
}

/// A state machine alias's ARN: the machine's ARN and the alias name.
pub fn alias(machine_arn: &str, name: &str) -> String {
    format!("{machine_arn}:{name}")
}

/// AWS's rule for alias names: 1–80 letters, digits, `_`, `-` and `.`, at least one of
/// them not a digit (so an alias never reads as a version number).
pub fn valid_alias_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !name.bytes().all(|b| b.is_ascii_digit())
}

/// An activity's ARN.
pub fn activity(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:states:{region}:{account}:activity:{name}")
}

/// An execution's ARN; an Express execution's has `express` where a Standard one has
/// `execution`.
pub fn execution(region: &str, account: &str, machine: &str, name: &str, express: bool) -> String {
    let kind = if express { "express" } else { "execution" };
    format!("arn:aws:states:{region}:{account}:{kind}:{machine}:{name}")
}

fn valid_account(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// AWS's rule for state machine and execution names: 1–80 characters, none of
/// whitespace, `< > { } [ ]`, `? *`, `" # % \ ^ | ~ \` $ & , ; : /`, or control characters.
pub fn valid_name(name: &str) -> bool {
    let len = name.chars().count();
    (1..=80).contains(&len)
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_machine_and_execution_arns() {
        let m = Arn::parse("arn:aws:states:us-east-1:123456789012:stateMachine:orders").unwrap();
        assert_eq!(
            m,
            Arn::StateMachine {
                region: "us-east-1".into(),
                account: "123456789012".into(),
                name: "orders".into()
            }
        );
        let e = Arn::parse("arn:aws:states:us-east-1:123456789012:express:orders:run-1").unwrap();
        assert!(matches!(e, Arn::Execution { express: true, ref name, .. } if name == "run-1"));
        for bad in [
            "",
            "arn:aws:states:us-east-1:123:stateMachine:x",
            "arn:aws:lambda:us-east-1:123456789012:function:x",
            "arn:aws:states:us-east-1:123456789012:stateMachine:",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:b:c",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:0",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:b c",
            "arn:aws:states:us-east-1:123456789012:stateMachine:a:",
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn qualified_machine_arns_name_a_version_or_an_alias() {
        let qualifier = |text: &str| match Arn::parse(text) {
            Ok(Arn::Qualified {
                name, qualifier, ..
            }) => Some((name, qualifier)),
            _ => None,
        };
        let base = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
        assert_eq!(
            qualifier(&version(base, 12)),
            Some(("orders".into(), Qualifier::Version(12)))
        );
        assert_eq!(
            qualifier(&alias(base, "PROD-1.x")),
            Some(("orders".into(), Qualifier::Alias("PROD-1.x".into())))
        );
        assert_eq!(
            qualifier(&alias(base, "2024a")),
            Some(("orders".into(), Qualifier::Alias("2024a".into())))
        );
        assert!(valid_alias_name(&"a".repeat(80)));
        for bad in ["", "123", "a b", "a@", &"a".repeat(81)] {
            assert!(!valid_alias_name(bad), "{bad}");
        }
    }

    #[test]
    fn names_follow_aws_rules() {
        assert!(valid_name("Orders_2024-01.v2"));
        assert!(valid_name(&"x".repeat(80)));
        assert!(!valid_name(&"x".repeat(81)));
        for bad in ["", "a b", "a/b", "a:b", "a*", "tab\t", "ü{"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
