//! Capabilities a tenant grants to one module version, or to a role its state machines'
//! integrations run as: which kv tables, blob buckets, queues and topics it may use (`*`:
//! all of a kind), and whether to read, write or both; and the state machines whose
//! waiting tasks it may answer (`callback`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The kinds of resource a module can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    /// A key-value table.
    Kv,
    /// A blob bucket.
    Blob,
    /// A queue.
    Queue,
    /// A topic.
    Topic,
    /// Answering the task tokens of a state machine's executions (`*`: any machine).
    Callback,
    /// An event bus (what a role lets `events:putEvents` tasks put events on).
    Bus,
    /// A host outbound HTTP may reach (`http:<host>[:<port>]`).
    Http,
}

impl Resource {
    fn parse(text: &str) -> Option<Resource> {
        match text {
            "kv" => Some(Resource::Kv),
            "blob" => Some(Resource::Blob),
            "queue" => Some(Resource::Queue),
            "topic" => Some(Resource::Topic),
            "callback" => Some(Resource::Callback),
            "bus" => Some(Resource::Bus),
            "http" => Some(Resource::Http),
            _ => None,
        }
    }

    /// The name used in grant strings.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Kv => "kv",
            Resource::Blob => "blob",
            Resource::Queue => "queue",
            Resource::Topic => "topic",
            Resource::Callback => "callback",
            Resource::Bus => "bus",
            Resource::Http => "http",
        }
    }
}

/// What a grant allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Reads only (kv get/query, blob get/head/list, queue receive).
    Read,
    /// Writes only (kv put/delete, blob put/delete, queue send/delete, topic publish).
    Write,
    /// Both.
    ReadWrite,
}

impl Access {
    fn allows(self, wanted: Access) -> bool {
        self == Access::ReadWrite || self == wanted
    }

    fn union(self, other: Access) -> Access {
        if self == other {
            self
        } else {
            Access::ReadWrite
        }
    }
}

/// The grants of one module version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants(BTreeMap<Resource, BTreeMap<String, Access>>);

/// Why a grant string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid grant '{grant}': {reason}")]
pub struct Error {
    /// The grant as written.
    pub grant: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Grants {
    /// No grants at all.
    pub fn none() -> Grants {
        Grants::default()
    }

    /// Parses grants written `kind:name[:read|write|rw]`, comma- or list-separated:
    /// `kv:orders,queue:shipments:write,blob:raw:read`. Without an access, both.
    ///
    /// # Errors
    /// [`Error`] for an unknown kind or access, or an invalid name.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Grants, Error> {
        let mut grants = Grants::default();
        for item in items
            .into_iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let bad = |reason: &str| Error {
                grant: item.to_string(),
                reason: reason.to_string(),
            };
            let mut parts = item.split(':');
            let kind = parts.next().and_then(Resource::parse).ok_or_else(|| {
                bad("the kind must be kv, blob, queue, topic, callback, bus or http")
            })?;
            let name = parts.next().ok_or_else(|| bad("expected kind:name"))?;
            if kind == Resource::Http {
                grants.add(
                    kind,
                    &http_grant(name, parts.next()).map_err(|r| bad(&r))?,
                    Access::ReadWrite,
                );
                if parts.next().is_some() {
                    return Err(bad("expected http:<host>[:<port>]"));
                }
                continue;
            }
            if name != ANY && !valid_name(name) {
                return Err(bad(
                    "names are 1-128 characters of letters, digits, '-', '_' and '.'",
                ));
            }
            let access = match parts.next() {
                None | Some("rw") | Some("readwrite") => Access::ReadWrite,
                Some("read") | Some("r") => Access::Read,
                Some("write") | Some("w") => Access::Write,
                Some(_) => return Err(bad("the access must be read, write or rw")),
            };
            if parts.next().is_some() {
                return Err(bad("expected kind:name[:access]"));
            }
            grants.add(kind, name, access);
        }
        Ok(grants)
    }

    /// Adds a grant (merging with an existing one for the same resource).
    pub fn add(&mut self, kind: Resource, name: &str, access: Access) {
        let entry = self.0.entry(kind).or_default();
        let merged = entry.get(name).map(|a| a.union(access)).unwrap_or(access);
        entry.insert(name.to_string(), merged);
    }

    /// Whether `access` to the `kind` resource `name` is granted (`*` grants every
    /// resource of its kind: `kv:*:read` every table, `callback:*` every state machine).
    pub fn allows(&self, kind: Resource, name: &str, access: Access) -> bool {
        let Some(names) = self.0.get(&kind) else {
            return false;
        };
        let any = names.get(ANY).is_some_and(|a| a.allows(access));
        any || names.get(name).is_some_and(|a| a.allows(access))
    }

    /// Whether outbound HTTP to `host` on `port` is granted: `http:<host>:<port>`,
    /// `http:<host>` for ports 80 and 443, `http:<host>:*` for any port; `*` for any host.
    pub fn allows_http(&self, host: &str, port: u16) -> bool {
        let Some(names) = self.0.get(&Resource::Http) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        let default_port = port == 80 || port == 443;
        [host.as_str(), ANY].iter().any(|h| {
            names.contains_key(&format!("{h}:{port}"))
                || names.contains_key(&format!("{h}:{ANY}"))
                || (default_port && names.contains_key(*h))
        })
    }

    /// The grants as strings, the form `parse` reads.
    pub fn to_strings(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(kind, names)| {
                names.iter().map(move |(name, access)| match access {
                    Access::ReadWrite => format!("{}:{name}", kind.as_str()),
                    Access::Read => format!("{}:{name}:read", kind.as_str()),
                    Access::Write => format!("{}:{name}:write", kind.as_str()),
                })
            })
            .collect()
    }
}

impl fmt::Display for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_strings().join(","))
    }
}

/// An HTTP grant's name: a host (a DNS name or an IPv4 address, lower-cased, or `*`) and
/// an optional port.
fn http_grant(host: &str, port: Option<&str>) -> Result<String, String> {
    let valid_host = host == ANY
        || (!host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')));
    if !valid_host {
        return Err(
            "an HTTP grant is http:<host>[:<port>]: a DNS name or IPv4 address, or *; the port a number or *".into(),
        );
    }
    let host = host.to_ascii_lowercase();
    match port {
        None => Ok(host),
        Some(ANY) => Ok(format!("{host}:{ANY}")),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Ok(format!("{host}:{n}")),
            _ => Err(format!("'{p}' is not a port")),
        },
    }
}

/// The callback grant's name for every state machine of the tenant.
pub const ANY: &str = "*";

/// Resource names: what S3, DynamoDB and SQS allow in common.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_grants() {
        let g = Grants::parse(["kv:orders,queue:shipments:write", "blob:raw:read"]).unwrap();
        assert!(g.allows(Resource::Kv, "orders", Access::Read));
        assert!(g.allows(Resource::Kv, "orders", Access::Write));
        assert!(g.allows(Resource::Queue, "shipments", Access::Write));
        assert!(!g.allows(Resource::Queue, "shipments", Access::Read));
        assert!(g.allows(Resource::Blob, "raw", Access::Read));
        assert!(!g.allows(Resource::Blob, "raw", Access::Write));
        assert!(!g.allows(Resource::Kv, "secrets", Access::Read));
        assert!(!g.allows(Resource::Topic, "orders", Access::Write));
        assert_eq!(
            Grants::parse(g.to_strings().iter().map(String::as_str)).unwrap(),
            g
        );
    }

    #[test]
    fn merges_read_and_write_into_both() {
        let g = Grants::parse(["kv:t:read", "kv:t:write"]).unwrap();
        assert!(
            g.allows(Resource::Kv, "t", Access::Read) && g.allows(Resource::Kv, "t", Access::Write)
        );
    }

    #[test]
    fn callbacks_are_granted_per_machine_or_for_all() {
        let one = Grants::parse(["callback:approval"]).unwrap();
        assert!(one.allows(Resource::Callback, "approval", Access::Write));
        assert!(!one.allows(Resource::Callback, "payroll", Access::Write));
        let all = Grants::parse(["callback:*"]).unwrap();
        assert!(all.allows(Resource::Callback, "payroll", Access::Write));
        assert!(!all.allows(Resource::Kv, "payroll", Access::Write));
        let tables = Grants::parse(["kv:*:read"]).unwrap();
        assert!(tables.allows(Resource::Kv, "orders", Access::Read));
        assert!(!tables.allows(Resource::Kv, "orders", Access::Write));
    }

    #[test]
    fn http_grants_name_hosts_and_ports() {
        let g = Grants::parse(["http:api.example.com,http:127.0.0.1:8080"]).unwrap();
        assert!(g.allows_http("api.example.com", 443));
        assert!(g.allows_http("API.example.com", 80));
        assert!(!g.allows_http("api.example.com", 8443));
        assert!(g.allows_http("127.0.0.1", 8080));
        assert!(!g.allows_http("127.0.0.1", 80));
        assert!(!g.allows_http("example.com", 443));
        assert_eq!(
            Grants::parse(g.to_strings().iter().map(String::as_str)).unwrap(),
            g
        );
        let any = Grants::parse(["http:*"]).unwrap();
        assert!(any.allows_http("anything.test", 443) && !any.allows_http("anything.test", 9000));
        let ports = Grants::parse(["http:127.0.0.1:*,http:*:*"]).unwrap();
        assert!(ports.allows_http("127.0.0.1", 9000) && ports.allows_http("example.com", 8443));
        let one_host = Grants::parse(["http:localhost:*"]).unwrap();
        assert!(one_host.allows_http("localhost", 1) && !one_host.allows_http("example.com", 443));
        for bad in [
            "http:a/b",
            "http:host:port",
            "http:h:0",
            "http:h:1:2",
            "http:",
        ] {
            assert!(Grants::parse([bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_bad_grants() {
        for bad in ["disk:x", "kv", "kv:", "kv:a/b", "kv:a:admin", "kv:a:read:x"] {
            assert!(Grants::parse([bad]).is_err(), "{bad}");
        }
    }
}
