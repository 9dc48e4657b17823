//! Redrive (AWS's `RedriveExecution`): running again the states of a failed, timed-out
//! or aborted execution that did not succeed, and keeping what did.
//!
//! While an execution runs, a frame whose state fails without a Retry or Catch taking
//! it, and the frames cancelled with it, *fall*: they are kept with what they held,
//! under their parent. When the execution ends without success, every frame still at
//! work falls too. A frame that moves on forgets what fell under it, so the fallen are
//! exactly the unsuccessful states of the last attempt. A redrive raises them again from
//! the root down: a state enters afresh with the input it was entered with (retry counts
//! at 0, new tasks and timers); a Parallel or Map keeps the results of the branches and
//! iterations that succeeded and runs only the fallen ones, each from the state it
//! stopped in, then the Map's items never started. A Parallel or Map that failed after
//! all its children ended (its result too large) runs again whole, as on AWS.

use super::*;

impl Run<'_, '_> {
    /// Keeps a frame that stopped without success, for a redrive.
    pub(super) fn fall(&mut self, id: FrameId, mut frame: Frame) {
        match &mut frame.pending {
            // Iterations an earlier redrive had yet to run again fall with their Map.
            Pending::Fanout(fan) => {
                for (child, iteration) in fan.redo.drain(..) {
                    self.st.fallen.insert((id, child), iteration);
                }
            }
            Pending::MapRun { .. } => {}
            // What it waited on ends with it; a redrive makes new tasks and timers.
            _ => frame.pending = Pending::Idle,
        }
        let parent = frame.parent.map_or(0, |(parent, _)| parent);
        self.st.fallen.insert((parent, id), frame);
    }

    /// Forgets what fell under a frame that moves on (or runs its state again whole).
    pub(super) fn forget_fallen_under(&mut self, id: FrameId) {
        for (child, _) in self.take_fallen_under(id) {
            self.forget_fallen_under(child);
        }
    }

    fn take_fallen_under(&mut self, id: FrameId) -> Vec<(FrameId, Frame)> {
        if self.st.fallen.is_empty() {
            return Vec::new();
        }
        let keys: Vec<(FrameId, FrameId)> = self
            .st
            .fallen
            .range((id, 0)..=(id, FrameId::MAX))
            .map(|(key, _)| *key)
            .collect();
        keys.into_iter()
            .filter_map(|key| self.st.fallen.remove(&key).map(|frame| (key.1, frame)))
            .collect()
    }

    /// Applies `Redriven`: the execution runs again from its unsuccessful states.
    pub(super) fn redrive(&mut self) -> Result<(), Error> {
        match &self.st.outcome {
            None => {
                return Err(Error::UnexpectedEvent(
                    "a running execution cannot be redriven".into(),
                ))
            }
            Some(Outcome::Succeeded(_)) => {
                return Err(Error::UnexpectedEvent(
                    "a succeeded execution cannot be redriven".into(),
                ))
            }
            Some(_) => {}
        }
        self.st.outcome = None;
        self.st.redrives += 1;
        self.st.redriven_at = Some(self.now);
        let count = self.st.redrives;
        self.record(
            None,
            "ExecutionRedriven",
            Details::Fields(json_map(&[("redriveCount", json!(count))])),
        );
        let runtime_limit = self.start_facts()?.timeout_seconds;
        self.arm_execution_timer(runtime_limit);
        match self.take_fallen_under(0).into_iter().next() {
            Some((id, root)) => self.raise(id, root),
            None => {
                // Nothing fell (it ended before its first state): it starts over.
                let start = self.def.machine(self.def.root())?.start;
                let input = self.st.input.clone();
                let root = self.new_frame(None, start, input);
                self.queue.push_back(root);
                Ok(())
            }
        }
    }

    /// Puts a fallen frame back to work.
    fn raise(&mut self, id: FrameId, mut frame: Frame) -> Result<(), Error> {
        frame.last_event = self.st.last_event_id;
        let fan = match std::mem::replace(&mut frame.pending, Pending::Idle) {
            Pending::Fanout(fan) => Some(fan),
            Pending::MapRun { arn, .. } => {
                self.st.frames.insert(id, frame);
                return self.redrive_map_run(id, arn);
            }
            _ => None,
        };
        self.st.frames.insert(id, frame);
        let mut again = match fan {
            Some(_) => self.take_fallen_under(id),
            None => Vec::new(),
        };
        // In item (or branch) order, whenever each fell.
        again.sort_by_key(|(_, frame)| frame.parent.map_or(0, |(_, i)| i));
        let Some(mut fan) = fan.filter(|f| !again.is_empty() || f.next_item < f.items.len()) else {
            self.forget_fallen_under(id);
            self.queue.push_back(id);
            return Ok(());
        };
        self.record_entry(id)?;
        fan.children.clear();
        fan.failures = 0;
        for (_, child) in &again {
            if let Some(slot) = child.parent.and_then(|(_, i)| fan.results.get_mut(i)) {
                *slot = None;
            }
        }
        if fan.is_map {
            let length = fan.results.len();
            self.record(
                Some(id),
                "MapStateStarted",
                Details::Fields(json_map(&[("length", json!(length))])),
            );
            fan.redo = again.into();
            self.frame_mut(id)?.pending = Pending::Fanout(fan);
            self.start_iterations(id)?;
            if self.fan_done(id)? {
                return self.fan_in(id);
            }
            return Ok(());
        }
        self.record(Some(id), "ParallelStateStarted", Details::None);
        for (child, frame) in &again {
            fan.children
                .insert(*child, frame.parent.map_or(0, |(_, i)| i));
        }
        self.frame_mut(id)?.pending = Pending::Fanout(fan);
        for (child, frame) in again {
            self.raise(child, frame)?;
        }
        Ok(())
    }

    /// Runs again a Map iteration that did not succeed, from the state it stopped in.
    pub(super) fn rerun_iteration(
        &mut self,
        map: FrameId,
        name: &Arc<str>,
        (id, iteration): (FrameId, Frame),
    ) -> Result<(), Error> {
        let index = iteration.parent.map_or(0, |(_, i)| i);
        self.record(
            Some(map),
            "MapIterationStarted",
            Details::MapIteration {
                name: name.clone(),
                index,
            },
        );
        if let Pending::Fanout(fan) = &mut self.frame_mut(map)?.pending {
            fan.children.insert(id, index);
        }
        self.raise(id, iteration)
    }
}
