//! The frame of every page: the top bar (navigation, search, who is signed
//! in) and the content area the live view refreshes.

use maud::{html, Markup, DOCTYPE};

use super::session::SignedIn;

/// Which navigation entry is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Failures,
    Documents,
    None,
}

/// A whole page. `live` pages refresh their content when events arrive.
pub(crate) fn page(
    title: &str,
    user: Option<&SignedIn>,
    active: Nav,
    live: bool,
    content: Markup,
) -> Markup {
    let link = |nav: Nav, href: &str, label: &str| {
        html! {
            a href=(href) class=@if active == nav { "active" } { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · ml-connector" }
                link rel="stylesheet" href="/assets/dashboard.css";
                script src="/assets/dashboard.js" defer {}
            }
            body data-live=[live.then_some("1")] {
                header.topbar {
                    a.brand href="/" { span.logo { "ml" } "connector" }
                    @if let Some(user) = user {
                        nav {
                            (link(Nav::Overview, "/", "Overview"))
                            (link(Nav::Failures, "/failures", "Failure queue"))
                            (link(Nav::Documents, "/documents", "Orders"))
                        }
                        form.search method="get" action="/documents" role="search" {
                            input type="search" name="q" id="search"
                                placeholder="Order no., Sage 300 no. or e-mail"
                                aria-label="Search orders";
                            button type="submit" { "Search" }
                        }
                        @if live {
                            span.live id="live" title="This page updates by itself" { "Live" }
                        }
                        div.user {
                            span.who { (user.principal.name) }
                            span.role { (role_label(user)) }
                            form method="post" action="/signout" {
                                input type="hidden" name="csrf" value=(user.csrf);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="content" { (content) }
            }
        }
    }
}

fn role_label(user: &SignedIn) -> &'static str {
    match user.principal.role {
        crate::auth::Role::Viewer => "Viewer (read only)",
        crate::auth::Role::Operator => "Operator",
        crate::auth::Role::Admin => "Admin",
    }
}
