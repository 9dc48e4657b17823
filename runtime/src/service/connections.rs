//! The tenant's connections: what an HTTP Task's `Authentication.ConnectionArn` names (the
//! base URLs its requests may go to, and their credentials). Secrets are write-only: they
//! are sealed with the server's key before they are stored ([`crate::secrets`]) and no
//! answer carries them; only the HTTP Task opens them, to send them.

use super::{Error, Result};
use crate::secrets::SecretKey;
use crate::store::connections::{Auth, Connection};
use crate::store::{Connections as _, Store, TenantId};
use crate::tenants::Tenant;
use std::fmt;

/// A secret given to the API: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A connection's credentials as given, secret included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An API key sent in `header`.
    ApiKey {
        /// The header's name.
        header: String,
        /// The key.
        value: Secret,
    },
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth 2.0 client credentials: a token from `token_url`, cached until it expires.
    OauthClientCredentials {
        /// Where tokens are asked for.
        token_url: String,
        /// The client's id.
        client_id: String,
        /// The client's secret.
        client_secret: Secret,
        /// The scope asked for, if any.
        scope: Option<String>,
    },
}

/// A connection to create or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnection {
    /// The URLs its requests may go to.
    pub base_urls: Vec<String>,
    /// Its credentials.
    pub credentials: Credentials,
}

/// The most base URLs one connection may have.
const MAX_BASE_URLS: usize = 20;

/// Connections of the tenants.
#[derive(Debug, Clone)]
pub struct Connections {
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    key: Option<SecretKey>,
    region: String,
}

/// What a connection's secret is sealed for: its tenant and name.
pub fn sealed_for(tenant: &TenantId, name: &str) -> Vec<u8> {
    format!("{tenant}/connection/{name}").into_bytes()
}

/// The name an HTTP Task's `ConnectionArn` gives:
/// `arn:<partition>:events:<region>:<account>:connection/<name>[/<id>]`.
pub fn name_in_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let fields: [&str; 6] = std::array::from_fn(|_| parts.next().unwrap_or(""));
    match fields {
        ["arn", partition, "events", _, _, resource] if partition.starts_with("aws") => resource
            .strip_prefix("connection/")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .filter(|name| !name.is_empty()),
        _ => None,
    }
}

impl Connections {
    /// The connections in `store`, sealed with `key` (none: secrets cannot be stored).
    pub fn new(
        store: Store,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
        key: Option<SecretKey>,
        region: &str,
    ) -> Connections {
        Connections {
            store,
            clock,
            key,
            region: region.to_string(),
        }
    }

    /// The ARN of the tenant's connection `name`.
    pub fn arn(&self, tenant: &Tenant, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:connection/{name}",
            self.region, tenant.account
        )
    }

    /// Creates or replaces a connection, its secret sealed with the server's key.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidConnection`] (also when the server has no
    /// key to seal secrets with), store failures.
    #[tracing::instrument(level = "debug", name = "service.put_connection", skip_all, fields(tenant = %tenant.id))]
    pub fn put(&self, tenant: &Tenant, name: &str, new: NewConnection) -> Result<Connection> {
        if !crate::grants::valid_name(name) || name.len() > 64 {
            return Err(Error::InvalidName(format!(
                "{name}: a connection name is 1-64 characters of letters, digits, '-', '_' and '.'"
            )));
        }
        let base_urls = base_urls(&new.base_urls)?;
        let Some(key) = &self.key else {
            return Err(Error::InvalidConnection(format!(
                "this server keeps no secrets: start it with {} (64 hex characters) or secret_key_file in its configuration, kept apart from the data dir",
                crate::secrets::KEY_ENV
            )));
        };
        let (auth, secret) = match new.credentials {
            Credentials::ApiKey { header, value } => {
                if !crate::outbound::valid_header_name(&header) {
                    return Err(Error::InvalidConnection(format!(
                        "'{header}' is not a header name"
                    )));
                }
                (Auth::ApiKey { header }, value)
            }
            Credentials::Basic { username, password } => {
                if username.contains(':') {
                    return Err(Error::InvalidConnection(
                        "a basic user name cannot contain ':'".into(),
                    ));
                }
                (Auth::Basic { username }, password)
            }
            Credentials::OauthClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                let token_url = http_url(&token_url)?;
                (
                    Auth::OauthClientCredentials {
                        token_url,
                        client_id,
                        scope,
                    },
                    client_secret,
                )
            }
        };
        if secret.0.is_empty() {
            return Err(Error::InvalidConnection("the secret is empty".into()));
        }
        // Sent in a header: what a header may hold (the error never quotes it).
        if !crate::outbound::valid_header_value(&secret.0) {
            return Err(Error::InvalidConnection(
                "the secret must be visible ASCII (spaces and tabs allowed): it is sent in a header".into(),
            ));
        }
        let sealed = key
            .seal(&sealed_for(&tenant.id, name), secret.0.as_bytes())
            .map_err(Error::Internal)?;
        let now = self.clock.now();
        let created = self
            .store
            .connection_get(&tenant.id, name)?
            .map_or(now, |old| old.created);
        let connection = Connection {
            name: name.to_string(),
            base_urls,
            auth,
            sealed,
            created,
            modified: now,
        };
        self.store.connection_put(&tenant.id, &connection)?;
        Ok(connection)
    }

    /// A connection (its secret stays sealed).
    ///
    /// # Errors
    /// [`Error::ConnectionDoesNotExist`], store failures.
    pub fn get(&self, tenant: &Tenant, name: &str) -> Result<Connection> {
        self.store
            .connection_get(&tenant.id, name)?
            .ok_or_else(|| Error::ConnectionDoesNotExist(name.to_string()))
    }

    /// The tenant's connections.
    ///
    /// # Errors
    /// Store failures.
    pub fn list(&self, tenant: &Tenant) -> Result<Vec<Connection>> {
        Ok(self.store.connection_list(&tenant.id)?)
    }

    /// Deletes a connection.
    ///
    /// # Errors
    /// [`Error::ConnectionDoesNotExist`], store failures.
    pub fn delete(&self, tenant: &Tenant, name: &str) -> Result<()> {
        match self.store.connection_delete(&tenant.id, name)? {
            true => Ok(()),
            false => Err(Error::ConnectionDoesNotExist(name.to_string())),
        }
    }
}

/// An `http` or `https` URL with a host and without query or fragment, normalized.
fn http_url(text: &str) -> Result<String> {
    let url = url::Url::parse(text)
        .map_err(|e| Error::InvalidConnection(format!("'{text}' is not a URL: {e}")))?;
    match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(_))
            if url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none() =>
        {
            Ok(url.to_string())
        }
        _ => Err(Error::InvalidConnection(format!(
            "'{text}' must be an http or https URL with a host and without a query or user info"
        ))),
    }
}

/// A connection's base URLs, checked and normalized.
fn base_urls(given: &[String]) -> Result<Vec<String>> {
    if given.is_empty() || given.len() > MAX_BASE_URLS {
        return Err(Error::InvalidConnection(format!(
            "a connection has 1-{MAX_BASE_URLS} base URLs: the URLs its requests may go to"
        )));
    }
    given.iter().map(|u| http_url(u)).collect()
}

/// Whether `url` is under one of `bases`: the same scheme, host and port, and a path that
/// continues a base's path at a segment boundary (`https://api.example.com/v1` covers
/// `/v1` and `/v1/users`, not `/v10`).
pub fn covers(bases: &[String], url: &url::Url) -> bool {
    let text = url.as_str();
    bases.iter().any(|base| {
        let base = base.as_str();
        match text.strip_prefix(base) {
            Some(rest) => {
                base.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?', '#'])
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(key: Option<SecretKey>) -> (Store, Connections) {
        let store = Store::memory();
        let clock = std::sync::Arc::new(crate::clock::ManualClock::at(7));
        (
            store.clone(),
            Connections::new(store, clock, key, "us-east-1"),
        )
    }

    fn key() -> SecretKey {
        SecretKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn api_key(value: &str) -> NewConnection {
        NewConnection {
            base_urls: vec!["https://api.example.com/v1".into()],
            credentials: Credentials::ApiKey {
                header: "x-api-key".into(),
                value: Secret(value.into()),
            },
        }
    }

    #[test]
    fn secrets_are_sealed_for_their_tenant_and_name() {
        let (store, c) = service(Some(key()));
        let t = crate::tenants::default_tenant();
        let saved = c.put(&t, "stripe", api_key("sk_live_123")).unwrap();
        assert_eq!(saved.base_urls, ["https://api.example.com/v1"]);
        assert!(!saved.sealed.contains("sk_live_123"));
        let stored = store.connection_get(&t.id, "stripe").unwrap().unwrap();
        assert_eq!(
            key()
                .open(&sealed_for(&t.id, "stripe"), &stored.sealed)
                .unwrap(),
            b"sk_live_123"
        );
        assert!(key()
            .open(&sealed_for(&t.id, "other"), &stored.sealed)
            .is_err());
        assert_eq!(
            c.arn(&t, "stripe"),
            "arn:aws:events:us-east-1:000000000000:connection/stripe"
        );
    }

    #[test]
    fn bad_connections_are_refused() {
        let (_, without_key) = service(None);
        let t = crate::tenants::default_tenant();
        let e = without_key.put(&t, "c", api_key("k")).unwrap_err();
        assert!(e.to_string().contains("SANDSTEP_SECRET_KEY"), "{e}");
        let (_, c) = service(Some(key()));
        assert!(matches!(
            c.put(&t, "a b", api_key("k")),
            Err(Error::InvalidName(_))
        ));
        assert!(matches!(
            c.put(&t, "c", api_key("")),
            Err(Error::InvalidConnection(_))
        ));
        for bad in ["ftp://x/", "https://x/?q=1", "not a url"] {
            let mut new = api_key("k");
            new.base_urls = vec![bad.into()];
            assert!(
                matches!(c.put(&t, "c", new), Err(Error::InvalidConnection(_))),
                "{bad}"
            );
        }
        let mut none = api_key("k");
        none.base_urls.clear();
        assert!(matches!(
            c.put(&t, "c", none),
            Err(Error::InvalidConnection(_))
        ));
        assert!(matches!(
            c.delete(&t, "nothing"),
            Err(Error::ConnectionDoesNotExist(_))
        ));
        assert_eq!(format!("{:?}", Secret("s".into())), "Secret(..)");
    }

    #[test]
    fn base_urls_cover_their_paths_at_segment_boundaries() {
        let bases = vec![
            "https://api.example.com/v1".to_string(),
            "http://127.0.0.1:8080/".to_string(),
        ];
        let covered = |u: &str| covers(&bases, &url::Url::parse(u).unwrap());
        assert!(covered("https://api.example.com/v1"));
        assert!(covered("https://api.example.com/v1/users?id=2"));
        assert!(!covered("https://api.example.com/v10"));
        assert!(!covered("https://api.example.com/"));
        assert!(!covered("http://api.example.com/v1"));
        assert!(!covered("https://api.example.com.evil.test/v1"));
        assert!(covered("http://127.0.0.1:8080/anything"));
        assert!(!covered("http://127.0.0.1:8081/anything"));
    }

    #[test]
    fn connection_arns_name_their_connection() {
        assert_eq!(
            name_in_arn("arn:aws:events:us-east-2:123456789012:connection/Stripe/81210c42-8af1"),
            Some("Stripe")
        );
        assert_eq!(
            name_in_arn("arn:aws:events:us-east-1:1:connection/local"),
            Some("local")
        );
        assert_eq!(name_in_arn("arn:aws:events:us-east-1:1:rule/x"), None);
        assert_eq!(name_in_arn("stripe"), None);
    }
}
