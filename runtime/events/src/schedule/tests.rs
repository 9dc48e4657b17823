//! Fire times, table-driven: AWS's syntax, the years' ends, and daylight-saving changes in
//! zones with and without them (as EventBridge Scheduler documents: a skipped time does not
//! fire, a repeated one fires once).

use super::*;

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn text(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%MZ")
        .to_string()
}

/// The next `n` fires of a cron (or any expression) in `zone` after `after`.
fn fires(expression: &str, zone_name: &str, after: &str, n: usize) -> Vec<String> {
    let e = Expression::parse(expression, Dialect::Scheduler)
        .unwrap_or_else(|e| panic!("{expression}: {e}"));
    let schedule = Schedule::new(e, zone(zone_name).unwrap(), i64::MIN / 4, None);
    schedule
        .upcoming(ms(after), n)
        .into_iter()
        .map(text)
        .collect()
}

#[test]
fn cron_syntax_fires_as_aws_documents() {
    let utc = "UTC";
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "cron(0 10 * * ? *)",
            "2027-01-01T10:00:00Z",
            vec!["2027-01-02T10:00Z", "2027-01-03T10:00Z"],
        ),
        (
            "cron(0 10 ? * 6L 2027)",
            "2026-12-01T00:00:00Z",
            vec![
                "2027-01-29T10:00Z",
                "2027-02-26T10:00Z",
                "2027-03-26T10:00Z",
                "2027-04-30T10:00Z",
            ],
        ),
        (
            "cron(15 10 ? * 6L 2019-2022)",
            "2022-11-01T00:00:00Z",
            vec!["2022-11-25T10:15Z", "2022-12-30T10:15Z"],
        ),
        (
            "cron(0 12 L * ? *)",
            "2027-01-15T00:00:00Z",
            vec![
                "2027-01-31T12:00Z",
                "2027-02-28T12:00Z",
                "2027-03-31T12:00Z",
                "2027-04-30T12:00Z",
            ],
        ),
        (
            "cron(0 12 LW * ? *)",
            "2027-01-15T00:00:00Z",
            vec![
                "2027-01-29T12:00Z",
                "2027-02-26T12:00Z",
                "2027-03-31T12:00Z",
                "2027-04-30T12:00Z",
            ],
        ),
        (
            "cron(0 12 15W * ? *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-15T12:00Z",
                "2027-02-15T12:00Z",
                "2027-03-15T12:00Z",
                "2027-04-15T12:00Z",
            ],
        ),
        (
            "cron(0 12 1W * ? *)",
            "2027-04-01T13:00:00Z",
            vec!["2027-05-03T12:00Z", "2027-06-01T12:00Z"],
        ),
        (
            "cron(0 12 31W * ? *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-29T12:00Z",
                "2027-03-31T12:00Z",
                "2027-05-31T12:00Z",
                "2027-07-30T12:00Z",
            ],
        ),
        (
            "cron(0 12 ? * 3#2 *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-12T12:00Z",
                "2027-02-09T12:00Z",
                "2027-03-09T12:00Z",
            ],
        ),
        (
            "cron(0 12 ? * 2#5 *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-03-29T12:00Z",
                "2027-05-31T12:00Z",
                "2027-08-30T12:00Z",
            ],
        ),
        (
            "cron(0 2 ? * SAT#3 *)",
            "2027-01-01T00:00:00Z",
            vec!["2027-01-16T02:00Z", "2027-02-20T02:00Z"],
        ),
        (
            "cron(0 12 ? * L *)",
            "2027-01-01T00:00:00Z",
            vec!["2027-01-02T12:00Z", "2027-01-09T12:00Z"],
        ),
        (
            "cron(0 12 ? * 1L *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-31T12:00Z",
                "2027-02-28T12:00Z",
                "2027-03-28T12:00Z",
            ],
        ),
        (
            "cron(0 12 ? * SUN *)",
            "2027-01-01T00:00:00Z",
            vec!["2027-01-03T12:00Z"],
        ),
        (
            "cron(0 12 ? * mon-fri *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-01T12:00Z",
                "2027-01-04T12:00Z",
                "2027-01-05T12:00Z",
            ],
        ),
        (
            "cron(1/10 * * * ? *)",
            "2027-01-01T00:00:00Z",
            vec![
                "2027-01-01T00:01Z",
                "2027-01-01T00:11Z",
                "2027-01-01T00:21Z",
                "2027-01-01T00:31Z",
            ],
        ),
        (
            "cron(0/30 20-2 ? * MON-FRI *)",
            "2027-01-01T23:00:00Z",
            vec!["2027-01-01T23:30Z", "2027-01-04T00:00Z"],
        ),
        (
            "cron(0 0 29 2 ? *)",
            "2027-01-01T00:00:00Z",
            vec!["2028-02-29T00:00Z", "2032-02-29T00:00Z"],
        ),
        (
            "cron(0 0 1 1 ? 2199)",
            "2027-01-01T00:00:00Z",
            vec!["2199-01-01T00:00Z"],
        ),
        ("cron(0 0 1 1 ? 2025)", "2027-01-01T00:00:00Z", vec![]),
        ("cron(0 0 1 1 ? *)", "2199-06-01T00:00:00Z", vec![]),
        (
            "cron(59 23 31 12 ? 2199)",
            "2199-12-31T00:00:00Z",
            vec!["2199-12-31T23:59Z"],
        ),
        (
            "cron(0/5 5 ? JAN 1-5 2022)",
            "2021-12-31T00:00:00Z",
            vec![
                "2022-01-02T05:00Z",
                "2022-01-02T05:05Z",
                "2022-01-02T05:10Z",
            ],
        ),
        ("cron(0 0 30 2 ? *)", "2027-01-01T00:00:00Z", vec![]),
        (
            "cron(1-31/30 1-1 ? * 1,7 *)",
            "2027-01-01T00:00:00Z",
            vec!["2027-01-02T01:01Z", "2027-01-02T01:31Z"],
        ),
    ];
    for (expression, after, expected) in cases {
        let n = expected.len().max(1);
        assert_eq!(
            fires(expression, utc, after, n),
            expected,
            "{expression} after {after}"
        );
    }
}

#[test]
fn daylight_saving_changes_skip_missing_times_and_fire_repeated_ones_once() {
    let cases: Vec<(&str, &str, &str, Vec<&str>)> = vec![
        // New York: 2027-03-14 02:00 EST -> 03:00 EDT; 2027-11-07 02:00 EDT -> 01:00 EST.
        (
            "cron(30 2 * * ? *)",
            "America/New_York",
            "2027-03-13T12:00:00Z",
            vec!["2027-03-15T06:30Z", "2027-03-16T06:30Z"],
        ),
        (
            "cron(0 2 * * ? *)",
            "America/New_York",
            "2027-03-13T12:00:00Z",
            vec!["2027-03-15T06:00Z", "2027-03-16T06:00Z"],
        ),
        (
            "cron(0 3 * * ? *)",
            "America/New_York",
            "2027-03-13T12:00:00Z",
            vec!["2027-03-14T07:00Z", "2027-03-15T07:00Z"],
        ),
        (
            "cron(0/30 * * * ? *)",
            "America/New_York",
            "2027-03-14T05:45:00Z",
            vec![
                "2027-03-14T06:00Z",
                "2027-03-14T06:30Z",
                "2027-03-14T07:00Z",
                "2027-03-14T07:30Z",
            ],
        ),
        (
            "cron(30 2 ? * 1#2 *)",
            "America/New_York",
            "2027-03-01T00:00:00Z",
            vec!["2027-04-11T06:30Z", "2027-05-09T06:30Z"],
        ),
        (
            "cron(30 1 * * ? *)",
            "America/New_York",
            "2027-11-06T12:00:00Z",
            vec![
                "2027-11-07T05:30Z",
                "2027-11-08T06:30Z",
                "2027-11-09T06:30Z",
            ],
        ),
        (
            "cron(0/30 * * * ? *)",
            "America/New_York",
            "2027-11-07T04:45:00Z",
            vec![
                "2027-11-07T05:00Z",
                "2027-11-07T05:30Z",
                "2027-11-07T07:00Z",
                "2027-11-07T07:30Z",
                "2027-11-07T08:00Z",
            ],
        ),
        (
            "cron(0/15 * * * ? *)",
            "America/New_York",
            "2027-11-07T06:10:00Z",
            vec!["2027-11-07T07:00Z", "2027-11-07T07:15Z"],
        ),
        (
            "cron(* * * * ? *)",
            "America/New_York",
            "2027-11-07T05:58:30Z",
            vec![
                "2027-11-07T05:59Z",
                "2027-11-07T07:00Z",
                "2027-11-07T07:01Z",
            ],
        ),
        (
            "cron(0 10 ? * 6L 2027)",
            "America/New_York",
            "2027-03-01T00:00:00Z",
            vec!["2027-03-26T14:00Z", "2027-04-30T14:00Z"],
        ),
        // Berlin: 2027-03-28 02:00 CET -> 03:00 CEST; 2027-10-31 03:00 CEST -> 02:00 CET.
        (
            "cron(30 2 * * ? *)",
            "Europe/Berlin",
            "2027-03-27T12:00:00Z",
            vec!["2027-03-29T00:30Z", "2027-03-30T00:30Z"],
        ),
        (
            "cron(30 2 * * ? *)",
            "Europe/Berlin",
            "2027-10-30T12:00:00Z",
            vec![
                "2027-10-31T00:30Z",
                "2027-11-01T01:30Z",
                "2027-11-02T01:30Z",
            ],
        ),
        (
            "cron(0/20 2 * * ? *)",
            "Europe/Berlin",
            "2027-10-30T23:00:00Z",
            vec![
                "2027-10-31T00:00Z",
                "2027-10-31T00:20Z",
                "2027-10-31T00:40Z",
                "2027-11-01T01:00Z",
            ],
        ),
        (
            "cron(0 8 1 * ? *)",
            "Europe/Berlin",
            "2027-03-01T12:00:00Z",
            vec!["2027-04-01T06:00Z", "2027-05-01T06:00Z"],
        ),
        // The AWS guide's own example, and zones without DST or with a half-hour change.
        (
            "cron(30 2 * * ? *)",
            "America/Los_Angeles",
            "2027-03-13T12:00:00Z",
            vec!["2027-03-15T09:30Z", "2027-03-16T09:30Z"],
        ),
        (
            "cron(30 1 * * ? *)",
            "America/Los_Angeles",
            "2027-11-06T12:00:00Z",
            vec!["2027-11-07T08:30Z", "2027-11-08T09:30Z"],
        ),
        (
            "cron(0 9 ? * MON-FRI *)",
            "Asia/Kolkata",
            "2027-03-12T00:00:00Z",
            vec!["2027-03-12T03:30Z", "2027-03-15T03:30Z"],
        ),
        (
            "cron(0/15 * * * ? *)",
            "Australia/Lord_Howe",
            "2027-04-03T14:20:00Z",
            vec![
                "2027-04-03T14:30Z",
                "2027-04-03T14:45Z",
                "2027-04-03T15:30Z",
                "2027-04-03T15:45Z",
            ],
        ),
    ];
    for (expression, zone_name, after, expected) in cases {
        assert_eq!(
            fires(expression, zone_name, after, expected.len()),
            expected,
            "{expression} in {zone_name} after {after}"
        );
    }
}

#[test]
fn one_time_and_rate_schedules() {
    assert_eq!(
        fires(
            "at(2027-06-01T12:00:00)",
            "Europe/Berlin",
            "2027-01-01T00:00:00Z",
            2
        ),
        ["2027-06-01T10:00Z"]
    );
    assert_eq!(
        fires(
            "at(2027-11-07T01:30:00)",
            "America/New_York",
            "2027-01-01T00:00:00Z",
            1
        ),
        ["2027-11-07T05:30Z"]
    );
    assert_eq!(
        fires(
            "at(2027-03-14T02:30:00)",
            "America/New_York",
            "2027-01-01T00:00:00Z",
            1
        ),
        ["2027-03-14T07:30Z"]
    );
    assert!(
        fires("at(2022-12-31T23:59:59)", "UTC", "2027-01-01T00:00:00Z", 1).is_empty(),
        "a past one-time schedule never fires"
    );
    let day = Expression::parse("rate(1 day)", Dialect::Rule).unwrap();
    let s = Schedule::new(
        day,
        zone("America/New_York").unwrap(),
        ms("2027-03-13T12:00:00Z"),
        None,
    );
    assert_eq!(
        s.upcoming(ms("2027-03-13T11:00:00Z"), 2)
            .into_iter()
            .map(text)
            .collect::<Vec<_>>(),
        ["2027-03-13T12:00Z", "2027-03-14T12:00Z"],
        "24 hours, across the change"
    );
    let five = Expression::parse("rate(5 minutes)", Dialect::Rule).unwrap();
    let s = Schedule::new(
        five,
        zone("UTC").unwrap(),
        ms("2027-01-01T00:00:00Z"),
        Some(ms("2027-01-01T00:20:00Z")),
    );
    assert_eq!(
        s.upcoming(ms("2027-01-01T00:07:00Z"), 5)
            .into_iter()
            .map(text)
            .collect::<Vec<_>>(),
        [
            "2027-01-01T00:10Z",
            "2027-01-01T00:15Z",
            "2027-01-01T00:20Z"
        ],
        "the end date closes the window"
    );
}

#[test]
fn bad_expressions_get_each_dialects_message() {
    let refused = [
        "cron(0 1 * * * *)",
        "cron(7 20 * * NOT *)",
        "cron(INVALID)",
        "cron(0 dummy ? * MON-FRI *)",
        "cron(71 8 1 * ? *)",
        "cron()",
        "rate()",
        "rate(10)",
        "rate(10 seconds)",
        "rate(10 years)",
        "rate(10 minutess)",
        "rate(foo minutes)",
        "rate(-10 minutes)",
        "rate( 10 minutes )",
        " rate(10 minutes)",
        "rate(0 minutes)",
        "rate(10 MINUTES)",
        "cron(*/1 * * * *)",
        "cron(0 12 ? * ? *)",
        "cron(0 12 1 * 2 *)",
        "cron(0 12 ? * 3#1,6#3 *)",
        "cron(0 0 1 1 ? 2200)",
        "cron(0 0 1 1 ? 1969)",
        "cron(*/60 * * * ? *)",
        "cron(0 12 ? * 0 *)",
        "cron(0 12 ? * 8 *)",
        "cron(0 12 ? * 3#6 *)",
        "cron(0 0 1 1 ? ?)",
        "cron(*/0 * * * ? *)",
        "cron(0 12 ? JAN-MON * *)",
        "at(2021-12-31T23:59:59Z)",
        "at(2021-12-31)",
    ];
    for text in refused {
        assert_eq!(
            Expression::parse(text, Dialect::Scheduler).unwrap_err().0,
            format!("Invalid Schedule Expression {text}."),
            "{text}"
        );
        assert_eq!(
            Expression::parse(text, Dialect::Rule).unwrap_err().0,
            "Parameter ScheduleExpression is not valid.",
            "{text}"
        );
    }
    for text in [
        "rate(1 minutes)",
        "rate(1 hours)",
        "rate(1 days)",
        "rate(10 minute)",
        "rate(10 hour)",
        "rate(10 day)",
        "at(2027-01-01T00:00:00)",
    ] {
        assert!(
            Expression::parse(text, Dialect::Rule).is_err(),
            "rules refuse {text}"
        );
        assert!(
            Expression::parse(text, Dialect::Scheduler).is_ok(),
            "Scheduler takes {text}"
        );
    }
    for text in [
        "cron(15 10 ? * 6L 2002-2005)",
        "cron(* * ? * SAT#3 *)",
        "cron(1-31/30 1-1 ? * 1,7 *)",
        "cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)",
        "cron(0/30 20-2 ? * MON-FRI *)",
        "cron(0 2 ? * SAT *)",
        "cron(5,35 14 * * ? *)",
        "rate(1 minute)",
        "rate(2 minutes)",
    ] {
        assert!(Expression::parse(text, Dialect::Rule).is_ok(), "{text}");
    }
    assert!(zone("Mars/Olympus").is_err());
}
