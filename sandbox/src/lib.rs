//! Simulators of the seven outside systems (Sage 300, Sage X3, Sage 100,
//! WooCommerce, Adobe Commerce, BigCommerce, ShipStation), written from the
//! facts in `shared/systems/`, never from `mlc-connectors`.
