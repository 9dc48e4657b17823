//! `booking-service`: one travel service of the saga sample (hotels, flights or car
//! rentals). The sample uploads this one module three times, as `hotels`, `flights` and
//! `cars`, each granted only its own kv table: the services share code, never data.
//!
//! Input: `{"service": "hotels", "action": "reserve" | "cancel", "tripId": "...",
//! "request": {...}}`. `reserve` writes `{"status": "RESERVED", "request", "reference"}` at
//! key `<tripId>` of table `<service>`; a request with `"soldOut": true` fails with
//! `SoldOut` and writes nothing. `cancel` marks the booking `CANCELLED` (a booking that
//! was never made is cancelled all the same, so a compensation can always run, and run
//! twice). Output: the booking.
use sandstep_sdk::{json, kv, Context, TaskError, Value};

const SERVICES: [&str; 3] = ["hotels", "flights", "cars"];

fn field<'a>(input: &'a Value, name: &str) -> Result<&'a str, TaskError> {
    input[name]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TaskError::new("InvalidInput", format!("{name} must be a non-empty string")))
}

/// A reference the traveller can quote: the service's initial and the trip.
fn reference(service: &str, trip: &str) -> String {
    let initial = service.chars().next().unwrap_or('x').to_ascii_uppercase();
    format!("{initial}-{trip}")
}

fn book(input: Value, ctx: &Context) -> Result<Value, TaskError> {
    let service = field(&input, "service")?;
    if !SERVICES.contains(&service) {
        return Err(TaskError::new(
            "InvalidInput",
            format!("service must be one of {SERVICES:?}"),
        ));
    }
    let trip = field(&input, "tripId")?;
    let booking = match field(&input, "action")? {
        "reserve" => {
            if input["request"]["soldOut"] == json!(true) {
                return Err(TaskError::new(
                    "SoldOut",
                    format!("{service}: nothing left for trip {trip}"),
                ));
            }
            json!({
                "status": "RESERVED",
                "request": input["request"],
                "reference": reference(service, trip),
                "by": ctx.execution_arn,
            })
        }
        "cancel" => {
            let mut booking = kv::get(service, trip)?
                .map(|item| item.value)
                .unwrap_or_else(|| json!({"reference": reference(service, trip)}));
            if let Some(fields) = booking.as_object_mut() {
                fields.insert("status".into(), json!("CANCELLED"));
            }
            booking
        }
        other => {
            return Err(TaskError::new(
                "InvalidInput",
                format!("action {other:?}: reserve or cancel"),
            ))
        }
    };
    kv::put(service, trip, &booking)?;
    Ok(booking)
}

sandstep_sdk::task!(book);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_the_service_and_trip() {
        assert_eq!(reference("flights", "t-1"), "F-t-1");
        assert_eq!(reference("cars", "42"), "C-42");
    }

    #[test]
    fn refuses_unknown_services_and_actions_before_touching_data() {
        let ctx = Context::default();
        let unknown = book(
            json!({"service": "trains", "action": "reserve", "tripId": "t"}),
            &ctx,
        );
        assert_eq!(unknown.unwrap_err().name, "InvalidInput");
        let missing = book(json!({"service": "cars", "action": "reserve"}), &ctx);
        assert_eq!(missing.unwrap_err().name, "InvalidInput");
        let sold = book(
            json!({"service": "cars", "action": "reserve", "tripId": "t", "request": {"soldOut": true}}),
            &ctx,
        );
        assert_eq!(sold.unwrap_err().name, "SoldOut");
    }
}
