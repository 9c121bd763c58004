mod auth_form;
pub mod clients;
pub mod brokers;
pub mod not_found;
pub mod settings;
pub mod sign_in;
pub mod sign_up;
