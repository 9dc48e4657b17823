//! AWS's cron: six fields (minutes, hours, day-of-month, month, day-of-week, year), one of
//! the two day fields `?`; `L`, `LW`, `nW` in day-of-month; `L`, `dL`, `d#n` in
//! day-of-week (1 = Sunday); names `JAN`-`DEC` and `SUN`-`SAT`; lists, ranges (a range
//! that ends below its start wraps around, `20-2` hours), and steps (`0/15`, `*/5`,
//! `1-31/30`, no larger than the field). Years 1970 to 2199.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

const FIRST_YEAR: i16 = 1970;
const LAST_YEAR: i16 = 2199;
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A field's values: `set[v - min]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Set {
    min: u32,
    set: Vec<bool>,
}

impl Set {
    fn has(&self, v: u32) -> bool {
        v.checked_sub(self.min)
            .and_then(|i| self.set.get(i as usize))
            .copied()
            .unwrap_or(false)
    }
}

/// Which days fire.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Days {
    /// Days of the month.
    Dom(Set),
    /// `L`: the last day of the month.
    Last,
    /// `LW`: the last weekday (Monday to Friday) of the month.
    LastWeekday,
    /// `nW`: the weekday nearest the nth, within the month.
    Nearest(u32),
    /// Days of the week (1 = Sunday).
    Dow(Set),
    /// `dL`: the last such weekday of the month.
    LastOf(u32),
    /// `d#n`: the nth such weekday of the month.
    Nth(u32, u32),
}

/// A checked cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Set,
    hours: Set,
    months: Set,
    years: Set,
    days: Days,
}

/// A field's bounds and names.
struct Field {
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Field = Field {
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Field = Field {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Field = Field {
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Field = Field {
    min: 1,
    max: 12,
    names: &MONTHS,
};
const DOW: Field = Field {
    min: 1,
    max: 7,
    names: &WEEKDAYS,
};
const YEAR: Field = Field {
    min: FIRST_YEAR as u32,
    max: LAST_YEAR as u32,
    names: &[],
};

impl Field {
    fn value(&self, text: &str) -> Option<u32> {
        let v = match self.names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            Some(i) => self.min + i as u32,
            None if !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit())
                && text.len() <= 4 =>
            {
                text.parse().ok()?
            }
            None => return None,
        };
        (self.min..=self.max).contains(&v).then_some(v)
    }

    /// A comma list of `*`, `v`, `a-b`, with optional `/n` steps.
    fn set(&self, text: &str) -> Option<Set> {
        let size = (self.max - self.min + 1) as usize;
        let mut set = vec![false; size];
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => {
                    let step: u32 = step.parse().ok().filter(|s| *s >= 1 && *s <= self.max)?;
                    (range, step)
                }
                None => (item, 1),
            };
            let (start, end) = match range {
                "*" => (self.min, self.max),
                _ => match range.split_once('-') {
                    Some((a, b)) => (self.value(a)?, self.value(b)?),
                    None => {
                        let v = self.value(range)?;
                        // `a/n` runs from a to the end of the field.
                        (v, if item.contains('/') { self.max } else { v })
                    }
                },
            };
            // Walk from start to end, wrapping past the field's end, every step-th value.
            let mut v = start;
            let mut taken = 0usize;
            loop {
                if taken.is_multiple_of(step as usize) {
                    *set.get_mut((v - self.min) as usize)? = true;
                }
                if v == end {
                    break;
                }
                taken += 1;
                v = if v == self.max { self.min } else { v + 1 };
                if taken > size {
                    return None;
                }
            }
        }
        Some(Set { min: self.min, set })
    }
}

impl Cron {
    /// Parses the text inside `cron(...)`; `None` when AWS would refuse it.
    pub fn parse(text: &str) -> Option<Cron> {
        let fields: Vec<&str> = text.split_ascii_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields.as_slice() else {
            return None;
        };
        let days = match (*dom, *dow) {
            ("?", "?") => return None,
            ("?", dow) => Cron::dow(dow)?,
            (dom, "?") => Cron::dom(dom)?,
            _ => return None,
        };
        Some(Cron {
            minutes: MINUTE.set(minutes)?,
            hours: HOUR.set(hours)?,
            months: MONTH.set(month)?,
            years: YEAR.set(year)?,
            days,
        })
    }

    fn dom(text: &str) -> Option<Days> {
        match text {
            "L" => Some(Days::Last),
            "LW" => Some(Days::LastWeekday),
            _ => match text.strip_suffix('W') {
                Some(n) => DOM.value(n).map(Days::Nearest),
                None => DOM.set(text).map(Days::Dom),
            },
        }
    }

    fn dow(text: &str) -> Option<Days> {
        if text == "L" {
            return Some(Days::Dow(DOW.set("7")?));
        }
        if let Some((day, n)) = text.split_once('#') {
            let n: u32 = n.parse().ok().filter(|n| (1..=5).contains(n))?;
            return Some(Days::Nth(DOW.value(day)?, n));
        }
        if let Some(day) = text.strip_suffix('L') {
            return DOW.value(day).map(Days::LastOf);
        }
        DOW.set(text).map(Days::Dow)
    }

    /// Whether `date` is one of the days.
    fn day_matches(&self, date: Date) -> bool {
        let day = date.day() as u32;
        let last = date.days_in_month() as u32;
        let weekday = date.weekday().to_sunday_one_offset() as u32;
        let weekday_of = |d: u32| {
            date.first_of_month()
                .checked_add(jiff::Span::new().days(i64::from(d) - 1))
                .map(|x| x.weekday().to_sunday_one_offset() as u32)
        };
        match &self.days {
            Days::Dom(set) => set.has(day),
            Days::Last => day == last,
            Days::LastWeekday => {
                let target = match weekday_of(last) {
                    Ok(7) => last - 1,
                    Ok(1) => last - 2,
                    _ => last,
                };
                day == target
            }
            Days::Nearest(n) => {
                if *n > last {
                    return false;
                }
                let target = match weekday_of(*n) {
                    Ok(7) if *n == 1 => 3,
                    Ok(7) => n - 1,
                    Ok(1) if *n == last => n - 2,
                    Ok(1) => n + 1,
                    _ => *n,
                };
                day == target
            }
            Days::Dow(set) => set.has(weekday),
            Days::LastOf(d) => weekday == *d && day + 7 > last,
            Days::Nth(d, n) => weekday == *d && (day - 1) / 7 + 1 == *n,
        }
    }

    /// The first fire strictly after `after` (epoch ms) in `zone`: wall-clock times that
    /// do not exist there are skipped, those that happen twice fire at their first instant.
    pub fn next_after(&self, zone: &TimeZone, after: i64) -> Option<i64> {
        let after_ts = Timestamp::from_millisecond(after).ok()?;
        let local = zone.to_datetime(after_ts);
        let local = local.date().at(local.hour(), local.minute(), 0, 0);
        let first = Date::new(FIRST_YEAR, 1, 1).ok()?;
        let mut date = local.date().max(first);
        while date.year() <= LAST_YEAR {
            let year = date.year();
            if !self.years.has(year as u32) {
                date = Date::new(year.checked_add(1)?, 1, 1).ok()?;
                continue;
            }
            if !self.months.has(date.month() as u32) {
                date = date.last_of_month().tomorrow().ok()?;
                continue;
            }
            if self.day_matches(date) {
                if let Some(at) = self.first_in_day(zone, date, local, after) {
                    return Some(at);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    fn first_in_day(
        &self,
        zone: &TimeZone,
        date: Date,
        local: DateTime,
        after: i64,
    ) -> Option<i64> {
        for hour in (0..24).filter(|h| self.hours.has(*h)) {
            for minute in (0..60).filter(|m| self.minutes.has(*m)) {
                let wall = date.at(hour as i8, minute as i8, 0, 0);
                if wall < local {
                    continue;
                }
                if let Some(t) = super::instant(zone, wall) {
                    if t.as_millisecond() > after {
                        return Some(t.as_millisecond());
                    }
                }
            }
        }
        None
    }
}
