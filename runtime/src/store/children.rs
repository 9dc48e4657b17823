//! Nested executions seen from their parent: which execution a parent's task started
//! (to stop it with the parent), and the answers ended children still owe their parents'
//! tasks. An answer is written with the child's last step (in the same atomic batch) and
//! deleted once the parent has it, so a crash in between delivers it after the restart.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store};
use crate::model::ExecutionKey;
use sandstep_engine::{EventKind, TaskId};
use serde::{Deserialize, Serialize};

/// An answer a nested execution owes its parent's task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The parent execution.
    pub parent: ExecutionKey,
    /// The parent's task.
    pub task: TaskId,
    /// `TaskSucceeded` or `TaskFailed` for that task.
    pub answer: EventKind,
}

/// The table of parents' children and of the answers they owe.
///
/// # Contract
/// A child row lives as long as its parent execution; a notice from the child's last
/// step until [`Children::notice_done`].
pub trait Children: Send + Sync {
    /// Remembers that the parent's `task` started `child`.
    ///
    /// # Errors
    /// When the store fails.
    fn child_put(&self, parent: &ExecutionKey, task: TaskId, child: &ExecutionKey) -> Result<()>;

    /// The execution the parent's `task` started, if any.
    ///
    /// # Errors
    /// When the store fails.
    fn child_get(&self, parent: &ExecutionKey, task: TaskId) -> Result<Option<ExecutionKey>>;

    /// Every answer not yet delivered (after a restart).
    ///
    /// # Errors
    /// When the store fails.
    fn notices(&self) -> Result<Vec<Notice>>;

    /// The parent has its answer.
    ///
    /// # Errors
    /// When the store fails.
    fn notice_done(&self, notice: &Notice) -> Result<()>;
}

fn child_key(parent: &ExecutionKey, task: TaskId) -> Vec<u8> {
    Key::of(Table::Child, &parent.tenant)
        .text(&parent.machine)
        .text(&parent.name)
        .number(task.0)
        .into_bytes()
}

fn notice_key(notice: &Notice) -> Vec<u8> {
    Key::table(Table::Notice)
        .text(&notice.parent.tenant.0)
        .text(&notice.parent.machine)
        .text(&notice.parent.name)
        .number(notice.task.0)
        .into_bytes()
}

impl Children for Store {
    fn child_put(&self, parent: &ExecutionKey, task: TaskId, child: &ExecutionKey) -> Result<()> {
        self.backend
            .apply(vec![Write::Put(child_key(parent, task), encode(child)?)])?;
        self.backend.durable()
    }

    fn child_get(&self, parent: &ExecutionKey, task: TaskId) -> Result<Option<ExecutionKey>> {
        self.backend
            .get(&child_key(parent, task))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn notices(&self) -> Result<Vec<Notice>> {
        let prefix = Key::table(Table::Notice).into_bytes();
        self.backend
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn notice_done(&self, notice: &Notice) -> Result<()> {
        self.backend
            .apply(vec![Write::Delete(notice_key(notice))])?;
        self.backend.durable()
    }
}

/// The row of a notice, written with the child's last step.
pub(super) fn notice_write(notice: &Notice) -> Result<Write> {
    Ok(Write::Put(notice_key(notice), encode(notice)?))
}

impl Store {
    /// Deletes the child rows of a parent execution (it is being deleted).
    pub(super) fn child_deletes(&self, parent: &ExecutionKey) -> Result<Vec<Write>> {
        let prefix = Key::of(Table::Child, &parent.tenant)
            .text(&parent.machine)
            .text(&parent.name)
            .into_bytes();
        Ok(self
            .backend
            .scan(&prefix, None, usize::MAX)?
            .into_iter()
            .map(|(k, _)| Write::Delete(k))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TenantId;

    fn key(tenant: &str, name: &str) -> ExecutionKey {
        ExecutionKey {
            tenant: TenantId(tenant.into()),
            machine: "m".into(),
            name: name.into(),
        }
    }

    #[test]
    fn children_and_notices_round_trip_and_go_with_the_parent() {
        for s in crate::store::testing::stores() {
            let parent = key("a", "p");
            s.child_put(&parent, TaskId(3), &key("a", "c")).unwrap();
            assert_eq!(
                s.child_get(&parent, TaskId(3)).unwrap(),
                Some(key("a", "c"))
            );
            assert_eq!(s.child_get(&key("b", "p"), TaskId(3)).unwrap(), None);
            let deletes = s.child_deletes(&parent).unwrap();
            s.backend.apply(deletes).unwrap();
            assert_eq!(s.child_get(&parent, TaskId(3)).unwrap(), None);

            let notice = Notice {
                parent,
                task: TaskId(3),
                answer: EventKind::TaskFailed {
                    task: TaskId(3),
                    error: "States.TaskFailed".into(),
                    cause: "{}".into(),
                    usage: None,
                },
            };
            s.backend
                .apply(vec![notice_write(&notice).unwrap()])
                .unwrap();
            assert_eq!(s.notices().unwrap(), std::slice::from_ref(&notice));
            s.notice_done(&notice).unwrap();
            assert!(s.notices().unwrap().is_empty());
        }
    }
}
