//! `GET .../{company}/{module}/$metadata`: an OData v4 EDMX per module
//! (facts §1.1), entity types in `Sage.CA.SBS.ERP.Sage300.{MODULE}.WebApi.Models`,
//! entity sets in `Default.Container`, detail collections as complex types.
//! Generated from the simulated entities, so a client that reads property
//! names from `$metadata` (as the facts advise) sees what the simulator serves.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::ar::Customer;
use super::entity::Entity;
use super::ic::{Item, ItemLocation, ItemPricing, Location};
use super::oe::{CreditNote, Order};

fn edm_type(name: &str, value: &Value) -> String {
    match value {
        Value::Bool(_) => "Edm.Boolean".into(),
        Value::Number(n) if n.is_f64() => "Edm.Decimal".into(),
        Value::Number(_) => "Edm.Int64".into(),
        _ if name.contains("Date") => "Edm.DateTimeOffset".into(),
        _ => "Edm.String".into(),
    }
}

fn properties(
    out: &mut String,
    row: &Map<String, Value>,
    complex: &mut Vec<(String, Map<String, Value>)>,
    ns: &str,
) {
    for (name, value) in row {
        let kind = match value {
            Value::Array(_) => {
                let type_name = name.trim_end_matches('s').to_string();
                complex.push((type_name.clone(), Map::new()));
                format!("Collection({ns}.{type_name})")
            }
            other => edm_type(name, other),
        };
        out.push_str(&format!("<Property Name=\"{name}\" Type=\"{kind}\"/>"));
    }
}

fn entity<T: Entity>(out: &mut String, sets: &mut Vec<(String, String)>, ns: &str) {
    let type_name = T::SET
        .trim_start_matches(T::MODULE)
        .trim_end_matches('s')
        .to_string();
    out.push_str(&format!("<EntityType Name=\"{type_name}\"><Key>"));
    for key in T::KEYS {
        out.push_str(&format!("<PropertyRef Name=\"{key}\"/>"));
    }
    out.push_str("</Key>");
    let mut complex = Vec::new();
    properties(out, &T::default().row(), &mut complex, ns);
    out.push_str("</EntityType>");
    for (name, _) in complex {
        out.push_str(&format!("<ComplexType Name=\"{name}\"/>"));
    }
    sets.push((T::SET.to_string(), format!("{ns}.{type_name}")));
}

/// The EDMX of `module`, or `None` for a module the simulator does not serve.
pub fn module(module: &str) -> Option<HttpResponse> {
    let ns = format!("Sage.CA.SBS.ERP.Sage300.{module}.WebApi.Models");
    let mut types = String::new();
    let mut sets = Vec::new();
    match module {
        "AR" => entity::<Customer>(&mut types, &mut sets, &ns),
        "IC" => {
            entity::<Item>(&mut types, &mut sets, &ns);
            entity::<ItemPricing>(&mut types, &mut sets, &ns);
            entity::<Location>(&mut types, &mut sets, &ns);
            entity::<ItemLocation>(&mut types, &mut sets, &ns);
        }
        "OE" => {
            entity::<Order>(&mut types, &mut sets, &ns);
            entity::<CreditNote>(&mut types, &mut sets, &ns);
        }
        _ => return None,
    }
    let container: String = sets
        .iter()
        .map(|(set, ty)| format!("<EntitySet Name=\"{set}\" EntityType=\"{ty}\"/>"))
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>\
<Schema Namespace=\"{ns}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">{types}</Schema>\
<Schema Namespace=\"Default\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\"><EntityContainer Name=\"Container\">{container}</EntityContainer></Schema>\
</edmx:DataServices></edmx:Edmx>"
    );
    Some(HttpResponse::Ok().content_type("application/xml").body(xml))
}
