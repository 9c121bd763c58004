//! Shared subscriptions (`$share/GROUP/FILTER`): each message goes to one member of the group,
//! in turn, preferring members that are online. rmqtt parses the prefix only when a strategy is
//! installed; the topic rule then applies to FILTER, whatever the group is called.

use async_trait::async_trait;
use rmqtt::context::ServerContext;
use rmqtt::subscribe::SharedSubscription;
use rmqtt::types::{
    ClientId, Id, IsOnline, NodeId, SharedGroup, SubscriptionIdentifier, SubscriptionOptions,
    TopicName,
};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Default)]
pub struct RoundRobin {
    next: AtomicUsize,
}

#[async_trait]
impl SharedSubscription for RoundRobin {
    fn is_supported(&self) -> bool {
        true
    }

    async fn choice(
        &self,
        _scx: &ServerContext,
        _group: &SharedGroup,
        _publisher: &Id,
        _topic: &TopicName,
        members: &[(
            NodeId,
            ClientId,
            SubscriptionOptions,
            Option<Vec<SubscriptionIdentifier>>,
            Option<IsOnline>,
        )],
    ) -> Option<(usize, IsOnline)> {
        if members.is_empty() {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let online = |i: usize| members[i].4.unwrap_or(true);
        (0..members.len())
            .map(|k| (start + k) % members.len())
            .find(|&i| online(i))
            .map(|i| (i, true))
            .or(Some((start % members.len(), false)))
    }
}
