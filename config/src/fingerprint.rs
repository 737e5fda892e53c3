//! Canonical serialization of an instance's non-secret settings, hashed with SHA-256.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::model::*;

/// Length-prefixed `key`/`value` records: unambiguous whatever the strings contain.
struct Canon {
    hasher: Sha256,
}

impl Canon {
    fn new(tag: &str) -> Self {
        let mut c = Self {
            hasher: Sha256::new(),
        };
        c.field("format", tag);
        c
    }

    fn bytes(&mut self, b: &[u8]) {
        self.hasher.update((b.len() as u64).to_be_bytes());
        self.hasher.update(b);
    }

    fn field(&mut self, key: &str, value: &str) {
        self.bytes(key.as_bytes());
        self.bytes(value.as_bytes());
    }

    fn opt(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.field(key, &format!("some:{v}")),
            None => self.field(key, "none"),
        }
    }

    fn map(&mut self, key: &str, map: &BTreeMap<String, String>) {
        self.field(key, &map.len().to_string());
        for (k, v) in map {
            self.bytes(k.as_bytes());
            self.bytes(v.as_bytes());
        }
    }

    fn finish(self) -> String {
        self.hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// See [`InstanceConfig::fingerprint`].
pub(crate) fn instance(i: &InstanceConfig) -> String {
    let mut c = Canon::new("mlc-config/instance/1");
    c.field("name", &i.name);

    c.field("erp", i.erp.kind().as_str());
    c.field("erp.base_url", i.erp.base_url().as_str());
    match &i.erp {
        ErpConnection::Sage300(s) => {
            c.field("erp.company", &s.company);
            c.field("erp.username", &s.username);
        }
        ErpConnection::SageX3(s) => {
            c.field("erp.folder", &s.folder);
            c.field("erp.auth", s.auth.as_str());
            match &s.auth {
                SageX3Auth::Basic { username, .. } => c.field("erp.username", username),
                SageX3Auth::Jwt {
                    client_id,
                    endpoint,
                    user,
                    ..
                } => {
                    c.field("erp.client_id", client_id);
                    c.field("erp.endpoint", endpoint);
                    c.opt("erp.user", user.as_deref());
                }
            }
        }
        ErpConnection::Sage100(s) => {
            c.field("erp.company", &s.company);
            c.field("erp.username", &s.username);
            c.opt("erp.agent_url", s.agent.as_ref().map(|a| a.url.as_str()));
        }
    }

    c.field("channel", i.channel.kind().as_str());
    c.field("channel.base_url", i.channel.base_url().as_str());
    match &i.channel {
        ChannelConnection::WooCommerce(_) | ChannelConnection::AdobeCommerce(_) => {}
        ChannelConnection::BigCommerce(b) => c.field("channel.store_hash", &b.store_hash),
        ChannelConnection::ShipStation(s) => c.field("channel.api_version", s.auth.api_version()),
    }

    c.field("paused", if i.paused { "true" } else { "false" });

    let m = &i.mapping;
    c.map("mapping.skus", &m.skus);
    c.map("mapping.customer_groups", &m.customer_groups);
    c.map("mapping.payment_methods", &m.payment_methods);
    c.map("mapping.shipping_methods", &m.shipping_methods);
    c.map("mapping.tax_classes", &m.tax_classes);
    c.field("mapping.locations", &m.locations.len().to_string());
    for l in &m.locations {
        c.bytes(l.as_bytes());
    }
    c.opt("mapping.price_list", m.price_list.as_deref());
    c.field("mapping.order_document", m.order_document.as_str());
    c.field("mapping.reference_field", &m.reference_field);
    c.opt("mapping.reference_prefix", m.reference_prefix.as_deref());
    c.opt(
        "mapping.default_customer_group",
        m.default_customer_group.as_deref(),
    );

    let s = &i.schedules;
    for (key, d) in [
        ("schedules.stock_poll", s.stock_poll),
        ("schedules.price_poll", s.price_poll),
        ("schedules.order_backfill", s.order_backfill),
        ("schedules.webhook_health", s.webhook_health),
    ] {
        c.field(key, &d.as_nanos().to_string());
    }

    let r = &i.retry;
    c.field("retry.max_attempts", &r.max_attempts.to_string());
    c.field(
        "retry.initial_backoff",
        &r.initial_backoff.as_nanos().to_string(),
    );
    c.field("retry.max_backoff", &r.max_backoff.as_nanos().to_string());
    c.field("retry.jitter", &format!("{:016x}", r.jitter.to_bits()));

    c.finish()
}
