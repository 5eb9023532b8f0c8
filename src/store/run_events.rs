//! Persisted run events: numbered per run without gaps, in the transaction
//! that makes them happen.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use super::{
    entity::{run, run_event},
    runs::RunRecord,
    tx::Tx,
};
use crate::{
    domain::{
        enums::LogLevel,
        now_micros,
        run_event::{EventBody, RunEvent},
    },
    error::{Error, Result},
};

/// Longest message or error an event carries; longer text is cut (events
/// travel between replicas in NOTIFY payloads, which hold 8000 bytes).
const MAX_TEXT: usize = 4000;

/// Cuts `s` to the longest text an event carries, marking the cut.
pub fn clip(s: &mut String) {
    if s.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
}

/// An event of `run` (as it is after this event) stamped now.
pub fn event(run: &RunRecord, sequence: i64, body: EventBody) -> RunEvent {
    RunEvent {
        run_id: run.id.clone(),
        sync_id: run.sync_id.clone(),
        workspace_id: run.workspace_id.clone(),
        sequence,
        emitted_at: now_micros(),
        status: Some(run.status),
        body,
    }
}

/// Persists `body` as the run's next event and publishes it at commit.
/// The sequence comes from the run row, which the increment locks until
/// commit: concurrent appenders queue, so numbers have no gaps and commit
/// in order.
pub async fn append(tx: &Tx, run: &RunRecord, mut body: EventBody) -> Result<RunEvent> {
    match &mut body {
        EventBody::Log { message, .. } => clip(message),
        EventBody::StatusChanged { error: Some(e), .. } => clip(e),
        _ => {}
    }
    run::Entity::update_many()
        .col_expr(
            run::Column::LastEventSequence,
            Expr::col(run::Column::LastEventSequence).add(1),
        )
        .filter(run::Column::Id.eq(run.id.clone()))
        .exec(tx)
        .await?;
    let sequence: i64 = run::Entity::find_by_id(run.id.clone())
        .select_only()
        .column(run::Column::LastEventSequence)
        .into_tuple()
        .one(tx)
        .await?
        .ok_or_else(|| Error::not_found("run", &run.id))?;
    let e = event(run, sequence, body);
    let level = match &e.body {
        EventBody::Log { level, .. } => Some(*level),
        _ => None,
    };
    let row = run_event::Model {
        run_id: e.run_id.clone(),
        sequence,
        kind: e.body.kind().into(),
        payload: serde_json::to_string(&e).unwrap_or_default(),
        emitted_at: e.emitted_at,
        level,
    };
    run_event::Entity::insert(row.into_active_model())
        .exec_without_returning(tx)
        .await?;
    tx.emit(e.clone()).await?;
    Ok(e)
}

fn decode(rows: Vec<run_event::Model>) -> Vec<RunEvent> {
    rows.into_iter()
        .filter_map(|r| serde_json::from_str(&r.payload).ok())
        .collect()
}

/// The run's events numbered after `after`, up to `up_to`, in order.
pub async fn range(
    db: &impl ConnectionTrait,
    run_id: &str,
    after: i64,
    up_to: i64,
) -> Result<Vec<RunEvent>> {
    if up_to <= after {
        return Ok(Vec::new());
    }
    let rows = run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .filter(run_event::Column::Sequence.gt(after))
        .filter(run_event::Column::Sequence.lte(up_to))
        .order_by_asc(run_event::Column::Sequence)
        .all(db)
        .await?;
    Ok(decode(rows))
}

/// Up to `limit` log lines of at least `min_level` numbered after `after`.
pub async fn logs(
    db: &impl ConnectionTrait,
    run_id: &str,
    after: i64,
    min_level: LogLevel,
    limit: u64,
) -> Result<Vec<RunEvent>> {
    let levels = LogLevel::ALL
        .iter()
        .filter(|l| **l as u8 >= min_level as u8)
        .map(|l| l.as_str());
    let rows = run_event::Entity::find()
        .filter(run_event::Column::RunId.eq(run_id))
        .filter(run_event::Column::Kind.eq("log"))
        .filter(run_event::Column::Level.is_in(levels))
        .filter(run_event::Column::Sequence.gt(after))
        .order_by_asc(run_event::Column::Sequence)
        .limit(limit)
        .all(db)
        .await?;
    Ok(decode(rows))
}
