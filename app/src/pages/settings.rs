#[leptos::component]
pub fn SettingsPage() -> impl leptos::IntoView {
    ()
}
