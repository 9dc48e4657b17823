//! HTTP routes of a tenant: which requests to `/hooks/{account}{path}` start which state
//! machine, how the caller must authenticate, and how the answer is shaped. The route
//! itself is checked by `service::routes`; this table only keeps it.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Millis, Result, Store, TenantId};
use crate::hooks::rate::RateLimit;
use crate::hooks::response::ErrorMapping;
use crate::hooks::signature;
use serde::{Deserialize, Serialize};

/// How a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Waits for the (Express) execution and answers its output.
    Sync,
    /// Answers `202` with the execution's ARN once it started.
    Async,
}

/// Who may call a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Auth {
    /// Anyone (a public webhook).
    None,
    /// A caller presenting one of the keys in a header (`x-api-key`, as API Gateway).
    #[serde(rename_all = "camelCase")]
    ApiKey {
        /// The header.
        header: String,
        /// Hex SHA-256 of each accepted key (the keys themselves are not kept).
        key_hashes: Vec<String>,
    },
    /// A request signed with SigV4 by the tenant's own credentials (service
    /// `execute-api`).
    Sigv4,
    /// An HMAC signature of the body with a shared secret.
    Hmac(signature::Check),
}

/// A route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// Its name, unique in the tenant.
    pub name: String,
    /// The method it answers (`ANY` for every one).
    pub method: String,
    /// Its path template (`/orders/{id}`).
    pub path: String,
    /// The state machine it starts.
    pub state_machine_arn: String,
    /// How it answers.
    pub mode: Mode,
    /// Who may call it.
    pub auth: Auth,
    /// A template for the execution's input (`{% ... %}` JSONata or a `$` JSONPath over
    /// the request object); the request object itself when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Its rate limit, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// The largest body it accepts.
    pub max_body_bytes: u64,
    /// Execution errors answered with another status than 500.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorMapping>,
    /// When it was last written (epoch ms).
    pub modified: Millis,
}

/// Routes.
pub trait Routes: Send + Sync {
    /// Creates or replaces a route.
    ///
    /// # Errors
    /// When the store fails.
    fn route_put(&self, tenant: &TenantId, route: &Route) -> Result<()>;
    /// A route.
    ///
    /// # Errors
    /// When the store fails.
    fn route_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Route>>;
    /// The tenant's routes, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn route_list(&self, tenant: &TenantId) -> Result<Vec<Route>>;
    /// Deletes a route; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn route_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
}

fn route_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::Route, tenant).text(name).into_bytes()
}

impl Routes for Store {
    fn route_put(&self, tenant: &TenantId, route: &Route) -> Result<()> {
        self.backend().apply(vec![Write::Put(
            route_key(tenant, &route.name),
            encode(route)?,
        )])
    }

    fn route_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Route>> {
        self.backend()
            .get(&route_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn route_list(&self, tenant: &TenantId) -> Result<Vec<Route>> {
        let prefix = Key::of(Table::Route, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn route_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = route_key(tenant, name);
        let existed = self.backend().get(&key)?.is_some();
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(name: &str, auth: Auth) -> Route {
        Route {
            name: name.into(),
            method: "POST".into(),
            path: "/orders/{id}".into(),
            state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
            mode: Mode::Sync,
            auth,
            input: Some("{% $.body %}".into()),
            rate_limit: Some(RateLimit {
                per_second: 1.5,
                burst: 2,
            }),
            max_body_bytes: 1024,
            errors: vec![],
            modified: 1,
        }
    }

    #[test]
    fn routes_are_kept_per_tenant() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let hmac = Auth::Hmac(signature::Check {
                style: signature::Style::Github,
                secret: "s".into(),
                header: None,
                timestamp_header: None,
                tolerance_seconds: 300,
            });
            s.route_put(&a, &route("x", hmac.clone())).unwrap();
            s.route_put(&a, &route("w", Auth::None)).unwrap();
            assert_eq!(s.route_get(&a, "x").unwrap(), Some(route("x", hmac)));
            assert_eq!(s.route_get(&b, "x").unwrap(), None);
            let names: Vec<String> = s
                .route_list(&a)
                .unwrap()
                .into_iter()
                .map(|r| r.name)
                .collect();
            assert_eq!(names, ["w", "x"]);
            assert!(s.route_list(&b).unwrap().is_empty());
            assert!(s.route_delete(&a, "x").unwrap());
            assert!(!s.route_delete(&a, "x").unwrap());
        }
    }
}
