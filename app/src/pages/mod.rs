//! The dashboard's pages, one module per route.

mod auth_form;
pub mod brokers;
pub mod clients;
pub mod devices;
pub mod not_found;
pub mod settings;
pub mod sign_in;
pub mod sign_up;
