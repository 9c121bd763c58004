pub mod toast;
