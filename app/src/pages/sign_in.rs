#[leptos::component]
pub fn SignInPage() -> impl leptos::IntoView {
    ()
}
