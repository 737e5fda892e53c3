use chrono::Utc;

use crate::database::Pool;
use crate::{EventStore, Position, StoreError};

impl EventStore {
    /// The saved checkpoint of subscriber `name`: the position of the last
    /// event it has handled, or [`Position::START`].
    pub async fn checkpoint(&self, name: &str) -> Result<Position, StoreError> {
        let row: Option<(i64, i64)> = match &self.inner.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT tx, position FROM subscription_checkpoints WHERE subscriber = ?",
                )
                .bind(name)
                .fetch_optional(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT tx, position FROM subscription_checkpoints WHERE subscriber = $1",
                )
                .bind(name)
                .fetch_optional(pool)
                .await?
            }
        };
        Ok(row.map_or(Position::START, |(tx, global)| Position { tx, global }))
    }

    /// Saves the checkpoint of subscriber `name`.
    pub async fn save_checkpoint(&self, name: &str, position: Position) -> Result<(), StoreError> {
        const UPSERT: &str = "INSERT INTO subscription_checkpoints (subscriber, tx, position, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (subscriber) DO UPDATE SET tx = excluded.tx, position = excluded.position, updated_at = excluded.updated_at";
        let _turn = self.write_turn().await;
        match &self.inner.pool {
            Pool::Sqlite(pool) => {
                sqlx::query(UPSERT)
                    .bind(name)
                    .bind(position.tx)
                    .bind(position.global)
                    .bind(Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .execute(pool)
                    .await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query(UPSERT)
                    .bind(name)
                    .bind(position.tx)
                    .bind(position.global)
                    .bind(Utc::now())
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets subscriber `name`'s checkpoint, so that it starts over.
    pub async fn reset_checkpoint(&self, name: &str) -> Result<(), StoreError> {
        const DELETE: &str = "DELETE FROM subscription_checkpoints WHERE subscriber = $1";
        let _turn = self.write_turn().await;
        match &self.inner.pool {
            Pool::Sqlite(pool) => {
                sqlx::query(DELETE).bind(name).execute(pool).await?;
            }
            Pool::Postgres(pool) => {
                sqlx::query(DELETE).bind(name).execute(pool).await?;
            }
        }
        Ok(())
    }
}
