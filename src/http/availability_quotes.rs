//! `/v1/availability-quotes`: what a hub can do in a window. `POST` counts it from the read
//! models and records it as an `AvailabilityQuoted` event; the collection's reads show it later,
//! as it was believed then.

use std::time::Instant;

use aggregates::availability_quote::{
    AvailabilityQuote, AvailabilityQuoteCommand, AvailabilityQuoteError,
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use projections::availability_quote::{
    AvailabilityQuoteHistoryProjector, AvailabilityQuoteHistoryRow, AvailabilityQuoteView,
    AvailabilityQuotesProjector, READ_MODELS,
};
use projections::frame::{Fold, StateView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::api::Api;
use super::collection::{views, Collection, Filter, ListSpec};
use super::command::{answer_headers, client_key, json_object, read_body, record};
use super::consistency::wait_for_token;
use super::context::ApiContext;
use super::extract::{invalid, ApiQuery};
use super::headers::CommandHeaders;
use super::problem::{ApiError, Code};
use crate::auth::{Access, Principal};
use crate::commands::{self, CommandEnvelope, CommandOutcome};
use crate::store::EventMetadata;

impl Collection for AvailabilityQuote {
    const PATH: &'static str = "availability-quotes";
    const DESCRIPTION: &'static str =
        "What a hub could do in a window (robots, pilots, field operators, capacity), as the \
         read models showed it when it was asked; recorded once.";
    const STATE_PROJECTOR: &'static str = AvailabilityQuotesProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] = &[AvailabilityQuoteHistoryProjector::NAME];
    type View = AvailabilityQuoteView;
    type HistoryRow = AvailabilityQuoteHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "availability_quotes",
        filters: &[Filter::uuid("hub_id")],
    };

    fn services() {}
}

views!(
    AvailabilityQuoteView,
    |v: &AvailabilityQuoteView| v.version,
    AvailabilityQuoteHistoryRow
);

/// What a quote is asked for.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    /// The hub, open.
    pub hub_id: Uuid,
    /// The window's start (RFC 3339).
    pub from: DateTime<Utc>,
    /// The window's end (RFC 3339): after `from`, and not over.
    pub until: DateTime<Utc>,
}

/// What a quote answers: the quote as `GET /v1/availability-quotes/{id}` shows it, and the
/// token to read it back with.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteAnswer {
    #[serde(flatten)]
    pub quote: AvailabilityQuoteView,
    /// Name it in `consistent_with` to read the quote back.
    pub token: String,
}

/// What the quote's `POST` takes in its query.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct QuoteQuery {
    /// A command answer's `token`: count only once the robots', pilots' and operators' read
    /// models include it (a shift just started, a robot just deployed).
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,19}\.[0-9]{1,18}$")]
    consistent_with: Option<String>,
}

/// `POST /v1/availability-quotes`.
pub fn api() -> Api {
    Api::new().post("/v1/availability-quotes", quote, |schemas| {
        let request = schemas.add::<QuoteRequest>();
        schemas.add::<AvailabilityQuoteView>();
        let answer = schemas.add::<QuoteAnswer>();
        super::resource::op::<AvailabilityQuote>(
            "quote",
            "Quote what a hub can do in a window, and record the quote".to_string(),
        )
        .describe(
            "Counts, in one snapshot of the read models, the robots DEPLOYED or PARKED at the \
             hub, the hub's pilots on shift and free (no active assignment, no reservation \
             holding them in the window) and its AVAILABLE field operators, and the trips they \
             can run at once (the lesser of robots and pilots). Records the answer as an \
             `AvailabilityQuoted` event; `as_of` says how far each read model had read the \
             feed. `Idempotency-Key`: a retry gets the first quote.",
        )
        .query::<QuoteQuery>()
        .body(request)
        .json(StatusCode::CREATED, "The quote, recorded.", answer)
        .problems(&[
            StatusCode::BAD_REQUEST,
            StatusCode::CONFLICT,
            StatusCode::PAYLOAD_TOO_LARGE,
        ])
        .problems(&[
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::INTERNAL_SERVER_ERROR,
        ])
    })
}

async fn quote(
    State(ctx): State<ApiContext>,
    principal: Principal,
    headers: CommandHeaders,
    ApiQuery(query): ApiQuery<QuoteQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    principal.require(Access::Command, Some(AvailabilityQuote::PATH))?;
    let (mut request, value) = parse_request(&read_body(body)?)?;
    // A retry with the same key and body is the same request whatever id this one would get:
    // the id is not part of what is compared. It gets the first quote, before anything is
    // checked or counted again (its window may be over by now).
    let (key, nil) = (headers.idempotency_key.clone(), Uuid::nil());
    let idempotency = client_key(&principal, key, AvailabilityQuote::TYPE, nil, &value);
    if let Some(record) = &idempotency {
        let started = Instant::now();
        let remembered =
            commands::recall::<AvailabilityQuote>(&ctx.store, record, Uuid::nil()).await;
        if let Ok(Some(outcome)) = &remembered {
            record_metrics(&ctx, &Ok(outcome.clone()), started);
            return Ok(answer(recorded(&ctx, outcome).await?, outcome));
        }
        remembered?;
    }
    // Times are kept to the microsecond, as PostgreSQL keeps them: the answer is what a read
    // shows later, to the digit.
    (request.from, request.until) = (micros(request.from), micros(request.until));
    // The aggregate's window rule, told as a bad field before anything is counted.
    AvailabilityQuote::check_window(request.from, request.until, Utc::now())
        .map_err(|refused| invalid(Code::InvalidField, "until", &refused.to_string()))?;
    wait_for_token(&ctx, query.consistent_with, &READ_MODELS).await?;
    let quoted_at = micros(Utc::now());
    let counted = projections::availability_quote::availability(
        ctx.store.pool(),
        request.hub_id,
        request.from,
    )
    .await?;
    let ttl = chrono::Duration::from_std(ctx.quote_ttl).unwrap_or(chrono::Duration::MAX);
    let expires_at = micros(
        quoted_at
            .checked_add_signed(ttl)
            .unwrap_or(request.until)
            .min(request.until),
    );
    let command = AvailabilityQuoteCommand::RecordAvailabilityQuote {
        hub_id: request.hub_id,
        from: request.from,
        until: request.until,
        quoted_at,
        expires_at,
        robots: counted.robots,
        pilots: counted.pilots,
        field_operators: counted.field_operators,
        as_of: counted.as_of,
    };
    let id = Uuid::now_v7();
    let envelope = CommandEnvelope {
        aggregate_id: id,
        metadata: EventMetadata {
            actor: principal.actor,
            on_behalf_of: headers.on_behalf_of,
            command: AvailabilityQuoteCommand::RECORD.to_string(),
            causation_id: headers.request_id.clone(),
            request_id: headers.request_id,
            correlation_id: headers.correlation_id,
        },
        command: command.clone(),
        precondition: headers.precondition,
        idempotency,
    };
    let started = Instant::now();
    let outcome = commands::execute::<AvailabilityQuote>(&ctx.store, &(), envelope).await;
    record_metrics(&ctx, &outcome, started);
    let outcome = outcome?;
    let quote = if outcome.replayed {
        recorded(&ctx, &outcome).await?
    } else {
        // What the append stored: the same decision, folded here rather than read back.
        let mut quote = AvailabilityQuote::default();
        for event in quote.decide(command).map_err(ApiError::internal)? {
            quote.apply(event);
        }
        let at = outcome.events.first().map_or(quoted_at, |e| e.recorded_at);
        AvailabilityQuoteView::show(id, &quote, outcome.version, at, at)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the quote recorded nothing")))?
    };
    Ok(answer(quote, &outcome))
}

fn record_metrics(
    ctx: &ApiContext,
    outcome: &Result<CommandOutcome, commands::CommandError<AvailabilityQuoteError>>,
    started: Instant,
) {
    let name = AvailabilityQuoteCommand::RECORD;
    record(ctx, AvailabilityQuote::TYPE, name, outcome, started);
}

fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(time, 6)
}

/// The quote a replayed request recorded the first time, from its stream.
async fn recorded(
    ctx: &ApiContext,
    outcome: &CommandOutcome,
) -> Result<AvailabilityQuoteView, ApiError> {
    let id = outcome.aggregate_id;
    let loaded = ctx
        .store
        .load::<AvailabilityQuote>(&id.to_string())
        .await
        .map_err(ApiError::internal)?;
    let at = outcome
        .events
        .first()
        .map_or_else(Utc::now, |e| e.recorded_at);
    AvailabilityQuoteView::show(id, &loaded.aggregate, loaded.version, at, at)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("quote {id} has no events")))
}

fn answer(quote: AvailabilityQuoteView, outcome: &CommandOutcome) -> Response {
    let token = outcome
        .last_event()
        .map(|e| e.feed_position().to_string())
        .unwrap_or_default();
    let (id, version) = (quote.id, quote.version);
    let body = QuoteAnswer {
        quote,
        token: token.clone(),
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    let location = format!("/v1/{}/{id}", AvailabilityQuote::PATH);
    answer_headers(
        &mut response,
        version,
        Some(&token),
        Some(location),
        outcome.replayed,
    );
    response
}

/// The body as a `QuoteRequest`, and as JSON (what an idempotency key compares): 400 naming
/// the field that is missing, unknown or malformed.
fn parse_request(body: &[u8]) -> Result<(QuoteRequest, serde_json::Value), ApiError> {
    let value = json_object(body, "{\"hub_id\": ..., \"from\": ..., \"until\": ...}")?;
    let request: QuoteRequest = serde_path_to_error::deserialize(&value).map_err(|e| {
        let path = e.path().to_string();
        invalid(Code::InvalidField, &path, &e.into_inner().to_string())
    })?;
    // chrono reads `23:59:60` as a leap second, which PostgreSQL keeps as the next second: the
    // event and the read model would disagree. Refused, as most of the world's clocks do.
    for (field, time) in [("from", request.from), ("until", request.until)] {
        if chrono::Timelike::nanosecond(&time) >= 1_000_000_000 {
            return Err(invalid(
                Code::InvalidField,
                field,
                "a leap second (:60) is not taken; send the second after it",
            ));
        }
    }
    Ok((request, value))
}
