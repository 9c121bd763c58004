#[leptos::component]
pub fn SignUpPage() -> impl leptos::IntoView {
    ()
}
