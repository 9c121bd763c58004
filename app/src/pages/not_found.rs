#[leptos::component]
pub fn NotFound() -> impl leptos::IntoView {
    ()
}
