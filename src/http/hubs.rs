use aggregates::hub::{Hub, HubStatus};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use projections::frame::Fold;
use projections::hub::{HubHistoryRow, HubPartnerView, HubView, HubsProjector};
use serde::Deserialize;
use utoipa::IntoParams;

use super::answer::Items;
use super::api::Api;
use super::collection::{views, Collection, Filter, ListSpec};
use super::consistency::wait_for_token;
use super::context::ApiContext;
use super::extract::{ApiQuery, EntityId};
use super::problem::ApiError;
use super::resource::{id, op};

impl Collection for Hub {
    const PATH: &'static str = "hubs";
    const DESCRIPTION: &'static str =
        "Hubs robots work from, in a city, with the partners they serve; open or closed.";
    const STATE_PROJECTOR: &'static str = HubsProjector::NAME;
    const HISTORY_PROJECTORS: &'static [&'static str] =
        &[projections::hub::HubHistoryProjector::NAME];
    type View = HubView;
    type HistoryRow = HubHistoryRow;
    const LIST: ListSpec = ListSpec {
        table: "hubs",
        filters: &[
            Filter::uuid("city_id"),
            Filter::enumeration::<HubStatus>("status"),
        ],
    };

    fn services() {}
}

views!(HubView, |v: &HubView| v.version, HubHistoryRow);

/// `GET /v1/hubs/{id}/partners`: the partners a hub serves now (`hub_partners`).
pub fn api() -> Api {
    Api::new().get("/v1/hubs/{id}/partners", partners, |schemas| {
        let summary = "The partners a hub serves now, by name".to_string();
        schemas.add::<HubPartnerView>();
        id::<Hub>(op::<Hub>("partnersOf", summary), &[])
            .describe(
                "From the `hub_partners` read model: partners removed since are left out \
                 (the hub's history has them).",
            )
            .query::<PartnersQuery>()
            .json(
                StatusCode::OK,
                "The hub's partners.",
                schemas.inline::<Items<HubPartnerView>>(),
            )
            .problems(&[StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND])
    })
}

/// What the partners' read takes.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PartnersQuery {
    /// A command answer's `token`: answer only once the hub's read models include it.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{1,19}\.[0-9]{1,18}$")]
    consistent_with: Option<String>,
}

async fn partners(
    State(ctx): State<ApiContext>,
    EntityId(id): EntityId,
    ApiQuery(query): ApiQuery<PartnersQuery>,
) -> Result<Json<Items<HubPartnerView>>, ApiError> {
    wait_for_token(&ctx, query.consistent_with, &[HubsProjector::NAME]).await?;
    let pool = ctx.store.pool();
    if <HubView as projections::views::Load>::load(pool, id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("no hub {id}")));
    }
    let items = HubPartnerView::of_hub(pool, id).await?;
    Ok(Json(Items { items }))
}
