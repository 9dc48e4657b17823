//! Schedule expressions, as EventBridge rules and EventBridge Scheduler take them:
//! `rate(N minute|minutes|hour|hours|day|days)`, `cron(minutes hours day-of-month month
//! day-of-week year)` with AWS's syntax (`?`, `L`, `W`, `#`, ranges, lists, steps), and
//! Scheduler's one-time `at(yyyy-mm-ddThh:mm:ss)`; and when such a schedule fires next,
//! in an IANA time zone.
//!
//! Daylight saving time as Scheduler documents it: a wall-clock time that does not exist
//! (skipped in spring) does not fire; one that happens twice (in autumn) fires once, at
//! its first instant; `rate(1 day)` means 24 hours. Rules run in UTC.
//!
//! Our own parser rather than a cron crate: none takes AWS's dialect (croner, the nearest,
//! moves a skipped time to the next hour where AWS skips it, fires the repeated hour twice,
//! and refuses AWS's own documented `20-2` hour range). Time zones are jiff's, with the
//! IANA database bundled, so every machine computes the same fire times.

mod cron;

pub use cron::Cron;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

/// Who reads the expression: their rules and messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `PutRule`'s `ScheduleExpression` (UTC; a rate's unit agrees with its number; no
    /// `at`).
    Rule,
    /// EventBridge Scheduler's `ScheduleExpression`.
    Scheduler,
}

/// An expression EventBridge would refuse, with its message: `Parameter
/// ScheduleExpression is not valid.` for rules, `Invalid Schedule Expression <expr>.` for
/// Scheduler.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expression {
    /// Once, at this wall-clock time in the schedule's zone.
    At(DateTime),
    /// Every so many milliseconds from the schedule's start.
    Rate {
        /// The interval.
        every_ms: i64,
    },
    /// At the wall-clock times a cron expression names.
    Cron(Box<Cron>),
}

impl Expression {
    /// Parses `text` as `dialect` takes it.
    ///
    /// # Errors
    /// [`Invalid`] with the dialect's message.
    pub fn parse(text: &str, dialect: Dialect) -> Result<Expression, Invalid> {
        let invalid = || match dialect {
            Dialect::Rule => Invalid("Parameter ScheduleExpression is not valid.".into()),
            Dialect::Scheduler => Invalid(format!("Invalid Schedule Expression {text}.")),
        };
        let (kind, inner) = text
            .strip_suffix(')')
            .and_then(|t| t.split_once('('))
            .ok_or_else(invalid)?;
        match kind {
            "rate" => rate(inner, dialect).ok_or_else(invalid),
            "cron" => Cron::parse(inner)
                .map(|c| Expression::Cron(Box::new(c)))
                .ok_or_else(invalid),
            "at" if dialect == Dialect::Scheduler => at(inner).ok_or_else(invalid),
            _ => Err(invalid()),
        }
    }
}

fn rate(inner: &str, dialect: Dialect) -> Option<Expression> {
    let (number, unit) = inner.split_once(' ')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || number.starts_with('0') {
        return None;
    }
    let n: i64 = number.parse().ok().filter(|n| *n <= 1_000_000)?;
    let (unit_ms, singular) = match unit {
        "minute" => (60_000, true),
        "minutes" => (60_000, false),
        "hour" => (3_600_000, true),
        "hours" => (3_600_000, false),
        "day" => (86_400_000, true),
        "days" => (86_400_000, false),
        _ => return None,
    };
    if dialect == Dialect::Rule && singular != (n == 1) {
        return None;
    }
    Some(Expression::Rate {
        every_ms: n * unit_ms,
    })
}

fn at(inner: &str) -> Option<Expression> {
    let shape = inner.len() == 19
        && inner.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    inner.parse::<DateTime>().ok().map(Expression::At)
}

/// A schedule: an expression, its zone, and the window it fires in.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: Expression,
    zone: TimeZone,
    /// A rate counts from here; nothing fires before it (epoch ms).
    start: i64,
    /// Nothing fires after it (epoch ms).
    end: Option<i64>,
}

/// A time zone name jiff does not know, in Scheduler's words.
pub fn zone(name: &str) -> Result<TimeZone, Invalid> {
    TimeZone::get(name).map_err(|_| Invalid(format!("Invalid ScheduleExpressionTimezone {name}.")))
}

impl Schedule {
    /// A schedule of `expression` in `zone`, firing from `start` (a rate's first fire)
    /// until `end` (epoch ms). One-time schedules ignore the window, as Scheduler does.
    pub fn new(expression: Expression, zone: TimeZone, start: i64, end: Option<i64>) -> Schedule {
        Schedule {
            expression,
            zone,
            start,
            end,
        }
    }

    /// The first fire strictly after `after` (epoch ms), if any.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let next = match &self.expression {
            Expression::At(wall) => {
                let at = self
                    .zone
                    .to_ambiguous_timestamp(*wall)
                    .compatible()
                    .ok()?
                    .as_millisecond();
                return (at > after).then_some(at);
            }
            Expression::Rate { every_ms } => {
                let from = self.start;
                match after < from {
                    true => from,
                    false => {
                        let k = (after - from) / every_ms + 1;
                        from.checked_add(k.checked_mul(*every_ms)?)?
                    }
                }
            }
            Expression::Cron(cron) => {
                let from = after.max(self.start - 1);
                cron.next_after(&self.zone, from)?
            }
        };
        match self.end {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }

    /// The first fire of a schedule made (or changed) at `now`: a rate fires at once (or at
    /// its start), a cron or one-time schedule only strictly after now.
    pub fn first(&self, now: i64) -> Option<i64> {
        match self.expression {
            Expression::Rate { .. } => self.next_after(now.max(self.start) - 1),
            _ => self.next_after(now),
        }
    }

    /// The next `n` fires after `after` (the console shows five).
    pub fn upcoming(&self, after: i64, n: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        let mut at = after;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }
}

/// The instant a wall-clock time names in `zone`: `None` in a gap (skipped), the first
/// instant in a fold (fires once).
fn instant(zone: &TimeZone, wall: DateTime) -> Option<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(wall);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => None,
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().ok()
        }
    }
}

#[cfg(test)]
mod tests;
