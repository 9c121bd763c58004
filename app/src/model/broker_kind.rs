//! Which kind of broker a revocation target is: the embedded one, or an external broker's admin
//! API.

use super::text_enum;

text_enum!(
    /// The kind of a broker target, stored in `broker_targets.kind` as its text.
    BrokerKind, "broker kind" {
        /// A Keygate node's own broker (`embedded:NODE`).
        Embedded = "embedded",
        Emqx = "emqx",
        Rmqtt = "rmqtt",
        Vernemq = "vernemq",
    }
);

impl BrokerKind {
    /// What Settings → Brokers calls it.
    pub fn label(self) -> &'static str {
        match self {
            BrokerKind::Embedded => "Embedded broker",
            BrokerKind::Emqx => "EMQX 5",
            BrokerKind::Rmqtt => "rmqtt",
            BrokerKind::Vernemq => "VerneMQ",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assert_round_trips;

    #[test]
    fn broker_kinds_round_trip_as_the_stored_texts() {
        assert_round_trips!(BrokerKind, ["embedded", "emqx", "rmqtt", "vernemq"]);
    }
}
