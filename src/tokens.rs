//! `ml-connector tokens`: create, list and revoke the API tokens that the
//! operator API and the dashboard ask for. A token is shown once, when it
//! is created, alone on the last line of the output; only its hash is kept.

use mlc_gateway::auth::{Role, TokenInfo, TokenStore};

use crate::cli::{RoleArg, TokensCommand};
use crate::settings::Settings;

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Operator => Role::Operator,
            RoleArg::Admin => Role::Admin,
        }
    }
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

pub async fn run(settings: &Settings, command: &TokensCommand) -> anyhow::Result<()> {
    let store = settings.open_store().await?;
    let tokens = TokenStore::new(store);
    match command {
        TokensCommand::Create { role, name } => {
            let (info, secret) = tokens
                .create((*role).into(), name.as_deref().unwrap_or(""))
                .await?;
            println!(
                "Created {} token '{}' (id {}). It is shown this once and only its hash is kept: \
                 store it now. Send it as `Authorization: Bearer <token>`, or sign in to the dashboard with it.",
                info.role, info.name, info.id
            );
            println!("{secret}");
            Ok(())
        }
        TokensCommand::List => {
            let list = tokens.list().await?;
            print_list(&list);
            Ok(())
        }
        TokensCommand::Revoke { id } => {
            let token = tokens.revoke(id).await?;
            println!(
                "revoked {} token '{}' (id {}) at {}",
                token.role,
                token.name,
                token.id,
                when(token.revoked_at)
            );
            Ok(())
        }
    }
}

fn print_list(list: &[TokenInfo]) {
    println!(
        "{:<12} {:<24} {:<8} {:<16} {:<16} {:<16}",
        "ID", "NAME", "ROLE", "CREATED", "LAST USED", "REVOKED"
    );
    for t in list {
        println!(
            "{:<12} {:<24} {:<8} {:<16} {:<16} {:<16}",
            t.id,
            t.name,
            t.role.as_str(),
            when(Some(t.created_at)),
            when(t.last_used_at),
            when(t.revoked_at)
        );
    }
}
