//! A refused append said in full: the statement only says that a claim or a reference kept the
//! events out; these queries, run after it, say which and why.

use super::append::{AppendError, Prepared};
use super::{Claim, EventStore, Reference};

impl EventStore {
    /// A failed append said in full: who holds a refused claim, which reference stopped it.
    pub(super) async fn explain(&self, prepared: &Prepared, err: AppendError) -> AppendError {
        match err {
            AppendError::Claimed => {
                let (aggregate_type, aggregate_id) = prepared.stream();
                (self.holder_of(aggregate_type, aggregate_id, prepared.claims().to_vec())).await
            }
            AppendError::Unreferenced => self.unreferenced(prepared.references()).await,
            other => other,
        }
    }

    /// Which of `references` stopped an append: the first missing or in a state it does not
    /// allow; `ReferenceChanged` if all are fine by now (one changed meanwhile: decide again).
    async fn unreferenced(&self, references: &[Reference]) -> AppendError {
        for reference in references {
            let state: Result<Option<String>, _> = sqlx::query_scalar(
                "SELECT state FROM entity_registry WHERE aggregate_type = $1 AND aggregate_id = $2",
            )
            .bind(reference.aggregate_type)
            .bind(reference.id.to_string())
            .fetch_optional(&self.pool)
            .await;
            match state {
                Err(err) => return AppendError::Database(err),
                Ok(None) => {
                    return AppendError::UnknownReference {
                        field: reference.field,
                        value: reference.id,
                        kind: reference.aggregate_type,
                    }
                }
                Ok(Some(state))
                    if !reference.allowed.is_empty()
                        && !reference.allowed.contains(&state.as_str()) =>
                {
                    return AppendError::ReferenceState {
                        field: reference.field,
                        value: reference.id,
                        kind: reference.aggregate_type,
                        state,
                        allowed: reference.allowed,
                    }
                }
                Ok(Some(_)) => {}
            }
        }
        AppendError::ReferenceChanged
    }

    /// Who holds the first of `claims` taken by another stream than `aggregate_id`'s.
    async fn holder_of(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        claims: Vec<Claim>,
    ) -> AppendError {
        for claim in claims {
            let holder: Result<Option<String>, _> = sqlx::query_scalar(
                "SELECT aggregate_id FROM unique_claims
                  WHERE aggregate_type = $1 AND field = $2 AND value = $3",
            )
            .bind(aggregate_type)
            .bind(claim.field)
            .bind(&claim.value)
            .fetch_optional(&self.pool)
            .await;
            match holder {
                // A concurrent command on this very stream: its events conflict with ours.
                Ok(Some(holder)) if holder == aggregate_id => return AppendError::Conflict,
                Ok(Some(holder)) => {
                    return AppendError::Taken {
                        field: claim.field,
                        value: claim.value,
                        holder,
                    }
                }
                Ok(None) => {}
                Err(err) => return AppendError::Database(err),
            }
        }
        // Refused, yet held by no one else: a concurrent command of this stream's.
        AppendError::Conflict
    }
}
