//! Connections of a tenant: what an HTTP Task (`arn:aws:states:::http:invoke`) names in
//! `Authentication.ConnectionArn`: the base URLs its requests may go to and the
//! credentials they carry. The secret part of the credentials is stored sealed with the
//! server's key ([`crate::secrets`]); only the service opens it.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};

/// How a connection authenticates, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Auth {
    /// An API key in a header; the key is the secret.
    ApiKey {
        /// The header's name.
        header: String,
    },
    /// HTTP basic authentication; the password is the secret.
    Basic {
        /// The user name.
        username: String,
    },
    /// OAuth 2.0 client credentials; the client secret is the secret.
    OauthClientCredentials {
        /// Where tokens are asked for.
        #[serde(rename = "tokenUrl")]
        token_url: String,
        /// The client's id.
        #[serde(rename = "clientId")]
        client_id: String,
        /// The scope asked for, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
    },
}

/// A connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Its name (the part of its ARN after `connection/`).
    pub name: String,
    /// The URLs its requests may go to: a request's URL starts with one of them.
    pub base_urls: Vec<String>,
    /// How it authenticates.
    pub auth: Auth,
    /// The secret, sealed with the server's key for this tenant and name.
    pub sealed: String,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// When it was last written (epoch ms); a token cached for it is for this version.
    pub modified: Millis,
}

/// Connections.
pub trait Connections: Send + Sync {
    /// Creates or replaces a connection.
    ///
    /// # Errors
    /// When the store fails.
    fn connection_put(&self, tenant: &TenantId, connection: &Connection) -> Result<()>;
    /// A connection.
    ///
    /// # Errors
    /// When the store fails.
    fn connection_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Connection>>;
    /// The tenant's connections, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn connection_list(&self, tenant: &TenantId) -> Result<Vec<Connection>>;
    /// Deletes a connection; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn connection_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
}

fn connection_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::Connection, tenant).text(name).into_bytes()
}

impl Connections for Store {
    fn connection_put(&self, tenant: &TenantId, connection: &Connection) -> Result<()> {
        self.backend().apply(vec![Write::Put(
            connection_key(tenant, &connection.name),
            encode(connection)?,
        )])
    }

    fn connection_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Connection>> {
        self.backend()
            .get(&connection_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn connection_list(&self, tenant: &TenantId) -> Result<Vec<Connection>> {
        let prefix = Key::of(Table::Connection, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn connection_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = connection_key(tenant, name);
        let existed = self.backend().get(&key)?.is_some();
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_kept_per_tenant() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let c = Connection {
                name: "stripe".into(),
                base_urls: vec!["https://api.stripe.com/".into()],
                auth: Auth::OauthClientCredentials {
                    token_url: "https://auth.example.com/token".into(),
                    client_id: "id".into(),
                    scope: None,
                },
                sealed: "sealed".into(),
                created: 1,
                modified: 2,
            };
            s.connection_put(&a, &c).unwrap();
            assert_eq!(s.connection_get(&a, "stripe").unwrap(), Some(c.clone()));
            assert_eq!(s.connection_get(&b, "stripe").unwrap(), None);
            assert_eq!(s.connection_list(&a).unwrap(), [c]);
            assert!(!s.connection_delete(&b, "stripe").unwrap());
            assert!(s.connection_delete(&a, "stripe").unwrap());
            assert!(s.connection_list(&a).unwrap().is_empty());
        }
    }
}
