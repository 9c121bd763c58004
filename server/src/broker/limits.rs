//! What one device may hold in the broker. Every tenant shares the process's memory, and with open
//! sign-up anyone can be a tenant, so nothing a session holds may grow without bound. rmqtt
//! enforces each limit itself; this module says which of its listener settings carries which
//! limit, and what rmqtt (0.24) does when a device reaches it.

use rmqtt::net::Builder;
use std::num::NonZeroU16;
use std::time::Duration;

/// The limits every listener (TCP, WebSocket, TLS) applies to each connection and its session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a session outlives its connection. An MQTT 3.1.1 session without clean session
    /// lives exactly this long once its device is gone; an MQTT 5 device's Session Expiry
    /// Interval (in CONNECT or DISCONNECT) is cut down to it, and its CONNACK says so. When it
    /// ends, its subscriptions and queued messages are gone and the next CONNECT gets
    /// "session present" 0.
    pub session_expiry: Duration,
    /// Subscriptions a session holds at once (they survive with the session, so this is per
    /// session, not per connection). rmqtt counts them before anything else, so a SUBSCRIBE
    /// beyond them fails per filter in the SUBACK (0x80 in both protocol versions) and the
    /// connection stays; so does one that repeats a filter already held. Unsubscribing makes room.
    pub max_subscriptions: usize,
    /// The largest packet read, counted as rmqtt counts it: the remaining length, i.e. without the
    /// 2 to 5 bytes of fixed header. It is checked from the fixed header, before the rest is
    /// buffered; a larger packet closes the connection (a larger CONNECT is answered "server
    /// unavailable" first). MQTT 5 devices learn it as the CONNACK's Maximum Packet Size. Over
    /// WebSocket, the WebSocket layer buffers a whole message (up to its own 64 MiB) before this
    /// check sees it.
    pub max_packet_size: u32,
    /// Messages a session queues: while its device is offline, and while its in-flight window is
    /// full. When the queue is full, a new QoS 1 or 2 message pushes out the oldest one, and a
    /// new QoS 0 message is dropped, so a QoS 1 device comes back to the newest messages.
    pub max_queued_messages: usize,
    /// QoS 1 and 2 messages sent to a device and not yet acknowledged; the next waits in the
    /// queue until one is. An MQTT 5 device that asks for less gets less, and the CONNACK's
    /// Receive Maximum says which. The same number bounds a device's own QoS 2 publishes awaiting
    /// PUBREL; one more closes the connection.
    pub max_inflight: NonZeroU16,
    /// How long a TLS handshake, a WebSocket upgrade, and reading a CONNECT once its protocol
    /// version has arrived may take, each; a CONNECT that then waits longer than this for a free
    /// handshake worker is refused with "server unavailable". Not covered: the first bytes of a
    /// CONNECT, up to the protocol version (rmqtt-net reads them without a deadline, so a silent
    /// connection stays open), nor authentication.
    pub handshake_timeout: Duration,
}

impl Limits {
    /// Sets the limits on one listener's settings.
    pub(super) fn apply(&self, listener: Builder) -> Builder {
        listener
            // rmqtt takes the 3.1.1 lifetime and the MQTT 5 cap as two settings.
            .session_expiry_interval(self.session_expiry)
            .max_session_expiry_interval(self.session_expiry)
            .max_subscriptions(self.max_subscriptions)
            .max_packet_size(self.max_packet_size)
            .max_mqueue_len(self.max_queued_messages)
            .max_inflight(self.max_inflight)
            .handshake_timeout(self.handshake_timeout)
    }
}
