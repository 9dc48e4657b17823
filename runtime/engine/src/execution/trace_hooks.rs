//! What the executor tells the data-flow trace (see [`crate::trace`]): each visit's
//! stages, its status, and the scope it ran in. Nothing here changes the execution.

use super::*;

impl Run<'_, '_> {
    /// Changes the frame's current visit in the trace, if tracing.
    pub(super) fn visit(&mut self, frame_id: FrameId, f: impl FnOnce(&mut Visit)) {
        let Some(trace) = self.st.trace.as_mut() else {
            return;
        };
        if let Some(fr) = self.st.frames.get(&frame_id) {
            if let Some(v) = trace.get_mut(fr.entered_event) {
                f(v);
            }
        }
    }

    /// Records a stage of the frame's current visit, if tracing.
    pub(super) fn note(&mut self, frame_id: FrameId, f: impl FnOnce(&mut Stages)) {
        self.visit(frame_id, |v| f(&mut v.stages));
    }

    /// Records the error a visit raised and what became of it.
    pub(super) fn note_failed(
        &mut self,
        frame_id: FrameId,
        failure: &Failure,
        status: VisitStatus,
    ) {
        if self.st.trace.is_none() {
            return;
        }
        let error = failure_object(failure);
        let now = self.now;
        self.visit(frame_id, |v| {
            v.stages.error = Some(error);
            match status {
                VisitStatus::Running => {
                    // The next attempt starts over from the input: drop this one's values.
                    v.retries += 1;
                    v.stages = Stages {
                        input: v.stages.input.take(),
                        error: v.stages.error.take(),
                        ..Stages::default()
                    };
                }
                VisitStatus::Failed | VisitStatus::Cancelled => v.exited_at = Some(now),
                VisitStatus::Succeeded | VisitStatus::Caught => {}
            }
            v.status = status;
        });
    }

    /// Where a frame runs, for the trace: `P[1]/M[3]` (see [`Visit::scope`]).
    pub(super) fn scope_of(&self, frame_id: FrameId) -> Result<String, Error> {
        let mut parts = Vec::new();
        let mut parent = self.frame(frame_id)?.parent;
        while let Some((id, index)) = parent {
            let fr = self.frame(id)?;
            parts.push(format!("{}[{index}]", self.def.state(fr.state)?.name));
            parent = fr.parent;
        }
        parts.reverse();
        Ok(parts.join("/"))
    }
}
