//! The credential store on both engines, one file per store module (app/src/store/) with the
//! same verbs, and the fixtures they share in `fixtures.rs`: every verb, tenant scoping, and the
//! revocation guarantee (a change and its outbox row commit together).

mod access;
mod api_tokens;
mod audit;
mod client_keys;
mod clients;
mod deliveries;
mod device_sessions;
mod devices;
mod event_deliveries;
mod fixtures;
mod import_use_case;
mod login_failures;
mod migration;
mod mqtt_usernames;
mod organizations;
mod outbox;
mod sessions;
mod transactions;
mod use_cases;
mod users;
mod workspaces;
