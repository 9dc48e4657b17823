//! `sandstep:host/kv`: JSON items with versions, over [`crate::store::Kv`].

use super::sandstep::host::kv::{Host, Item};
use super::{
    check_len, check_limit, check_prefix, unavailable, HostError, HostState, MAX_KEY_BYTES,
};
use crate::grants::{Access, Resource};
use crate::store::{Expect, Kv};

/// The largest item, in bytes (DynamoDB's item limit).
pub const MAX_VALUE_BYTES: usize = 400 * 1024;

fn item(i: crate::store::Item) -> Item {
    Item {
        value: i.value,
        version: i.version,
    }
}

fn check_value(value: &str) -> Result<(), HostError> {
    check_len("the value", value, MAX_VALUE_BYTES)?;
    serde_json::from_str::<serde::de::IgnoredAny>(value)
        .map(|_| ())
        .map_err(|e| HostError::InvalidInput(format!("the value is not JSON: {e}")))
}

impl HostState {
    fn kv_write(
        &mut self,
        table: &str,
        key: &str,
        value: &str,
        expect: Expect,
    ) -> Result<u64, HostError> {
        check_len("the key", key, MAX_KEY_BYTES)?;
        check_value(value)?;
        self.store
            .kv_put(&self.caller.tenant, table, key, value, expect)
            .map_err(unavailable)
    }
}

impl Host for HostState {
    #[tracing::instrument(name = "host.kv.get", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn get(
        &mut self,
        table: String,
        key: String,
    ) -> wasmtime::Result<Result<Option<Item>, HostError>> {
        if let Some(denied) = self.denied(Resource::Kv, &table, Access::Read) {
            return Ok(Err(denied));
        }
        Ok(check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| {
            self.store
                .kv_get(&self.caller.tenant, &table, &key)
                .map(|found| found.map(item))
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.kv.put", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn put(
        &mut self,
        table: String,
        key: String,
        value: String,
    ) -> wasmtime::Result<Result<u64, HostError>> {
        if let Some(denied) = self.denied(Resource::Kv, &table, Access::Write) {
            return Ok(Err(denied));
        }
        Ok(self.kv_write(&table, &key, &value, Expect::Any))
    }

    #[tracing::instrument(name = "host.kv.put_if", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn put_if(
        &mut self,
        table: String,
        key: String,
        value: String,
        expected: Option<u64>,
    ) -> wasmtime::Result<Result<u64, HostError>> {
        if let Some(denied) = self.denied(Resource::Kv, &table, Access::Write) {
            return Ok(Err(denied));
        }
        let expect = expected.map_or(Expect::Absent, Expect::Version);
        Ok(self.kv_write(&table, &key, &value, expect))
    }

    #[tracing::instrument(name = "host.kv.delete", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn delete(&mut self, table: String, key: String) -> wasmtime::Result<Result<bool, HostError>> {
        if let Some(denied) = self.denied(Resource::Kv, &table, Access::Write) {
            return Ok(Err(denied));
        }
        Ok(check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| {
            self.store
                .kv_delete(&self.caller.tenant, &table, &key)
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.kv.query", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn query(
        &mut self,
        table: String,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<(String, Item)>, HostError>> {
        if let Some(denied) = self.denied(Resource::Kv, &table, Access::Read) {
            return Ok(Err(denied));
        }
        Ok(check_prefix(&prefix)
            .and_then(|()| check_limit(limit))
            .and_then(|limit| {
                self.store
                    .kv_query(&self.caller.tenant, &table, &prefix, limit)
                    .map(|items| items.into_iter().map(|(k, i)| (k, item(i))).collect())
                    .map_err(unavailable)
            }))
    }
}
