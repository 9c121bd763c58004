#[leptos::component]
pub fn ClientsPage() -> impl leptos::IntoView {
    ()
}
