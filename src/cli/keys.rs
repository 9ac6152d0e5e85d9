//! `operations keys create|list|revoke`.

use anyhow::bail;

use crate::auth::keys;
use crate::http::collection_paths;
use crate::settings::{KeysAction, KeysSettings};
use crate::startup;

pub async fn keys(settings: KeysSettings) -> anyhow::Result<()> {
    let pool = startup::connect(&settings.database).await?;
    startup::migrate(&pool).await?;
    match settings.action {
        KeysAction::Create {
            name,
            role,
            collections,
            expires,
        } => {
            if let Some(unknown) = collections
                .iter()
                .flatten()
                .find(|c| !collection_paths().contains(&c.as_str()))
            {
                bail!(
                    "no collection is named {unknown:?}; there are: {}",
                    collection_paths().join(", ")
                );
            }
            let secret = keys::create(&pool, &name, role, collections, expires).await?;
            eprintln!("key {name} ({role}) created; its secret is shown this once:");
            println!("{secret}");
        }
        KeysAction::List { json } => {
            let listed = keys::list(&pool).await?;
            if json {
                for key in listed {
                    println!("{}", serde_json::to_string(&key)?);
                }
                return Ok(());
            }
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
            };
            println!(
                "{:<24} {:<8} {:<20} {:<16} {:<16} {:<16} REVOKED",
                "NAME", "ROLE", "COLLECTIONS", "CREATED", "EXPIRES", "LAST USED"
            );
            for key in listed {
                let collections = key.collections.map_or("all".into(), |c| c.join(","));
                println!(
                    "{:<24} {:<8} {:<20} {:<16} {:<16} {:<16} {}",
                    key.name,
                    key.role,
                    collections,
                    when(Some(key.created_at)),
                    when(key.expires_at),
                    when(key.last_used_at),
                    when(key.revoked_at),
                );
            }
        }
        KeysAction::Revoke { name } => {
            keys::revoke(&pool, &name).await?;
            println!("key {name} revoked");
        }
    }
    Ok(())
}
