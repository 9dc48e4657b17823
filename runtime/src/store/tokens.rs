//! Task tokens: which task of which execution a `.waitForTaskToken` token completes. The
//! rows are written with the step that schedules the task (in the same atomic batch), so
//! a token handed out before a crash still finds its task after the restart; they go
//! with the execution when it is deleted.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use crate::model::ExecutionKey;
use sandstep_engine::{TaskId, TaskRequest};
use serde::{Deserialize, Serialize};

/// The task a token completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTask {
    /// Its execution.
    pub execution: ExecutionKey,
    /// The task (one attempt of a Task state: a retry has a new task and token).
    pub task: TaskId,
}

/// The tokens table, keyed by the token inside the tenant: another tenant's token is not
/// there.
///
/// # Contract
/// A token's row exists from the commit of the step that scheduled its task until the
/// execution is deleted; whether the task still waits is the execution's to say.
pub trait Tokens: Send + Sync {
    /// The task `token` completes in `tenant`, if it is one of the tenant's.
    ///
    /// # Errors
    /// When the store fails.
    fn token_task(&self, tenant: &TenantId, token: &str) -> Result<Option<TokenTask>>;
}

fn token_key(tenant: &TenantId, token: &str) -> Vec<u8> {
    Key::of(Table::Token, tenant).text(token).into_bytes()
}

fn by_execution(execution: &ExecutionKey) -> Key {
    Key::of(Table::ExecutionToken, &execution.tenant)
        .text(&execution.machine)
        .text(&execution.name)
}

impl Tokens for Store {
    fn token_task(&self, tenant: &TenantId, token: &str) -> Result<Option<TokenTask>> {
        self.backend
            .get(&token_key(tenant, token))?
            .map(|b| decode(&b))
            .transpose()
    }
}

/// The rows of a task's token, written with the step that schedules it; none for a task
/// without a token.
pub(super) fn token_writes(execution: &ExecutionKey, task: &TaskRequest) -> Result<Vec<Write>> {
    let Some(token) = &task.task_token else {
        return Ok(Vec::new());
    };
    let row = TokenTask {
        execution: execution.clone(),
        task: task.id,
    };
    Ok(vec![
        Write::Put(token_key(&execution.tenant, token), encode(&row)?),
        Write::Put(
            by_execution(execution).number(task.id.0).into_bytes(),
            token.as_bytes().to_vec(),
        ),
    ])
}

impl Store {
    /// Deletes the token rows of an execution (it is being deleted).
    pub(super) fn token_deletes(&self, execution: &ExecutionKey) -> Result<Vec<Write>> {
        let mut writes = Vec::new();
        let prefix = by_execution(execution).into_bytes();
        for (k, token) in self.backend.scan(&prefix, None, usize::MAX)? {
            let token = String::from_utf8_lossy(&token);
            writes.push(Write::Delete(token_key(&execution.tenant, &token)));
            writes.push(Write::Delete(k));
        }
        Ok(writes)
    }
}
