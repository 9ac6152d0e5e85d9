//! What a hub can do in a window, counted from the read models in one snapshot: the query
//! behind `POST /v1/availability-quotes`.

use std::collections::BTreeMap;

use aggregates::availability_quote::{Freshness, QuotedOperator, QuotedPilot, QuotedRobot};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::frame::Fold;
use crate::FeedPosition;

/// What the read models showed of a hub, and how far each had read the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub robots: Vec<QuotedRobot>,
    pub pilots: Vec<QuotedPilot>,
    pub field_operators: Vec<QuotedOperator>,
    pub as_of: Freshness,
}

/// The projectors whose read models a quote counts from: a token all of them have reached is
/// one the quote includes.
pub const READ_MODELS: [&str; 3] = [
    crate::robot::RobotsProjector::NAME,
    crate::pilot::PilotsProjector::NAME,
    crate::operator::OperatorsProjector::NAME,
];

/// Robots in service at the hub: DEPLOYED or PARKED under a deployment there.
const ROBOTS: &str = "
SELECT id, status FROM robots
 WHERE deployment_hub_id = $1 AND status IN ('DEPLOYED', 'PARKED')
 ORDER BY id";

/// The hub's people who can work: its operators (assigned to the hub, active) that are pilots
/// on shift (their current shift ON_SHIFT: not on break, cooldown or unresponsive) and free (no
/// active assignment, no reservation that holds them past the window's start, `$2`), with
/// their shift; and its field operators who are AVAILABLE, without one.
///
/// One pass over the hub's members, each looked up by its keys (`OFFSET 0` keeps the planner
/// from flattening the lateral joins), whatever the statistics say: with statistics that lag a
/// fast-growing fleet the planner would otherwise scan every pilot (48 ms instead of 5 with
/// 10,000 pilots).
const PEOPLE: &str = "
SELECT o.id, o.role, f.shift_id
  FROM operator_hubs m
 CROSS JOIN LATERAL (
       SELECT o.id, o.role, o.status FROM operators o
        WHERE o.id = m.operator_id AND o.active AND o.role IN ('PILOT', 'FIELD')
       OFFSET 0) o
  LEFT JOIN LATERAL (
       SELECT p.active_shift_id AS shift_id
         FROM pilots p
         JOIN pilot_shifts s ON s.pilot_id = p.id AND s.shift_id = p.active_shift_id
        WHERE p.id = o.id AND o.role = 'PILOT'
          AND p.archived_at IS NULL
          AND s.state = 'ON_SHIFT'
          AND p.active_assignment_id IS NULL
          AND (p.active_reservation_id IS NULL OR p.locked_until <= $2)
       OFFSET 0) f ON true
 WHERE m.hub_id = $1 AND m.removed_at IS NULL
   AND ((o.role = 'FIELD' AND o.status = 'AVAILABLE') OR f.shift_id IS NOT NULL)
 ORDER BY o.id";

/// What the hub `hub_id` has for a window starting at `from`, read in one snapshot with the
/// checkpoints of the projectors that keep those tables (each moves its checkpoint in the
/// transaction that writes its rows, so the counts are exactly the events up to them, and any
/// events past them, in the snapshot, of types the projector does not read).
pub async fn availability(
    pool: &PgPool,
    hub_id: Uuid,
    from: DateTime<Utc>,
) -> Result<Availability, sqlx::Error> {
    let mut tx = crate::views::snapshot(pool).await?;
    let robots = sqlx::query(ROBOTS)
        .bind(hub_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(QuotedRobot {
                robot_id: row.try_get("id")?,
                status: status
                    .parse()
                    .map_err(|_| sqlx::Error::Decode(format!("robot status {status}").into()))?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    let (mut pilots, mut field_operators) = (Vec::new(), Vec::new());
    for (id, role, shift) in sqlx::query_as::<_, (Uuid, String, Option<Uuid>)>(PEOPLE)
        .bind(hub_id)
        .bind(from)
        .fetch_all(&mut *tx)
        .await?
    {
        match (role.as_str(), shift) {
            ("PILOT", Some(shift_id)) => pilots.push(QuotedPilot {
                pilot_id: id,
                shift_id,
            }),
            _ => field_operators.push(QuotedOperator { operator_id: id }),
        }
    }
    let mut read_models = BTreeMap::new();
    let mut least: Option<FeedPosition> = None;
    for (name, at) in crate::checkpoint::positions(&mut tx, &READ_MODELS).await? {
        least = Some(least.map_or(at, |l| l.min(at)));
        read_models.insert(name, at.to_string());
    }
    tx.commit().await?;
    // A projector without a checkpoint yet has read nothing.
    let least = match read_models.len() {
        n if n == READ_MODELS.len() => least.unwrap_or_default(),
        _ => FeedPosition::default(),
    };
    Ok(Availability {
        robots,
        pilots,
        field_operators,
        as_of: Freshness {
            token: least.to_string(),
            read_models,
        },
    })
}
