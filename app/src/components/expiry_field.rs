//! When a key expires, as a form asks it: never, in 30, 90 or 365 days, or on a date. The New
//! modal, Regenerate, Rotate and a key's "Change expiry" offer all of them; Settings' default for
//! new keys offers the durations only (a default counts from each key's creation).

use crate::model::{Expiry, FieldError, ParseError, Problem};
use leptos::prelude::*;

/// The select's value for "On a date": the date itself is in the field beside it.
const ON_A_DATE: &str = "date";

/// What an expiry field holds: one of [`Expiry::CHOICES`] (or another number of days, when the
/// organization's default is one), `""` for "the organization's default" when that default is not
/// known, or [`ON_A_DATE`] with the date typed beside it.
#[derive(Clone, Copy)]
pub struct ExpiryDraft {
    choice: RwSignal<String>,
    date: RwSignal<String>,
}

impl ExpiryDraft {
    /// Preselects the organization's default: `Some(None)` never expires, `Some(Some(days))`, and
    /// `None` (not known) sends the empty text the server reads as "the default".
    pub fn preselect(default_days: Option<Option<u32>>) -> Self {
        Self {
            choice: RwSignal::new(choice_of(default_days)),
            date: RwSignal::new(String::new()),
        }
    }

    /// The text the server functions take: `never`, a number of days, a date, or `""`. Tracked.
    pub fn text(&self) -> String {
        let choice = self.choice.get();
        if choice == ON_A_DATE {
            self.date.get()
        } else {
            choice
        }
    }

    /// [`Self::text`], untracked: what an event handler sends.
    pub fn text_untracked(&self) -> String {
        untrack(|| self.text())
    }

    /// Why the field cannot be sent as it is at `now`, checked by the server's own parser. Tracked.
    pub fn error(&self, now: i64) -> Option<ParseError> {
        let text = self.text();
        // An empty date would parse as "never": a date was chosen, so one is needed.
        if self.choice.get() == ON_A_DATE && text.trim().is_empty() {
            return Some(ParseError::new(FieldError::KeyExpiry, Problem::Shape));
        }
        Expiry::parse(&text, now).err()
    }
}

/// The select's value for an organization's default.
fn choice_of(default_days: Option<Option<u32>>) -> String {
    match default_days {
        None => String::new(),
        Some(None) => "never".to_owned(),
        Some(Some(days)) => days.to_string(),
    }
}

/// The select's options, in order: the choices, the organization's default among them when it is
/// another number of days, and "the organization's default" itself when it is not known. The
/// default is marked.
fn options(default_days: Option<Option<u32>>) -> Vec<(String, String)> {
    let default = choice_of(default_days);
    let mut options: Vec<(String, String)> = Expiry::CHOICES
        .iter()
        .map(|(value, label)| ((*value).to_owned(), (*label).to_owned()))
        .collect();
    match default_days {
        None => options.insert(0, (String::new(), "The organization's default".to_owned())),
        Some(Some(days)) if !options.iter().any(|(value, _)| *value == default) => {
            let at = options
                .iter()
                .position(|(value, _)| value.parse::<u32>().is_ok_and(|d| d > days))
                .unwrap_or(options.len());
            options.insert(at, (default.clone(), format!("In {days} days")));
        }
        Some(_) => {}
    }
    if default_days.is_some() {
        for (value, label) in &mut options {
            if *value == default {
                label.push_str(" (organization default)");
            }
        }
    }
    options
}

/// A labelled select of expiries with, when `dates`, "On a date" and a date field (UTC) beside it.
/// `name` is the form field's name and names the elements for tests: the select `NAME`, the date
/// `NAME-date`, the message `error-NAME`.
#[component]
pub fn ExpiryField(
    draft: ExpiryDraft,
    #[prop(into)] label: String,
    #[prop(into)] name: String,
    /// The organization's default, marked among the choices; `None` when not known.
    default_days: Option<Option<u32>>,
    /// Offer "On a date".
    #[prop(optional)]
    dates: bool,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into, optional)] hint: Option<String>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let date_id = format!("field-{name}-date");
    let error_id = format!("error-{name}");
    let mut options = options(default_days);
    if dates {
        options.push((ON_A_DATE.to_owned(), "On a date…".to_owned()));
    }
    let choice = draft.choice;
    let on_date = move || choice.get() == ON_A_DATE;
    let date = draft.date;
    // The select carries the form's value only without a date: with one, the date field does.
    let select_name = {
        let name = name.clone();
        move || (!on_date()).then(|| name.clone())
    };
    let date_testid = format!("{name}-date");
    let date_name = name.clone();
    let date_described_by = error_id.clone();
    view! {
        <div class="field expiry-field" class:invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <div class="field-row">
                <select id=id name=select_name data-testid=name.clone()
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=error_id.clone()
                    prop:value=move || choice.get()
                    on:change=move |ev| choice.set(event_target_value(&ev))>
                    {options.into_iter().map(|(value, label)| {
                        let selected = {
                            let value = value.clone();
                            move || choice.get() == value
                        };
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                <Show when=on_date>
                    <label class="sr-only" for=date_id.clone()>"Expiry date (UTC)"</label>
                    <input type="date" id=date_id.clone() name=date_name.clone() data-testid=date_testid.clone()
                        aria-describedby=date_described_by.clone()
                        prop:value=move || date.get()
                        on:input=move |ev| date.set(event_target_value(&ev))/>
                </Show>
            </div>
            {hint.map(|h| view! { <p class="hint">{h}</p> })}
            <p class="field-error" id=error_id.clone() data-testid=error_id.clone() role="alert">
                {move || error.get().unwrap_or_default()}
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(default_days: Option<Option<u32>>) -> Vec<String> {
        options(default_days).into_iter().map(|(v, _)| v).collect()
    }

    #[test]
    fn the_organization_default_is_marked_and_a_custom_one_takes_its_place_in_order() {
        assert_eq!(values(Some(Some(90))), ["never", "30", "90", "365"]);
        let marked = options(Some(Some(90)));
        assert_eq!(marked[2].1, "In 90 days (organization default)");
        assert_eq!(marked[1].1, "In 30 days");
        assert_eq!(options(Some(None))[0].1, "Never (organization default)");
        assert_eq!(values(Some(Some(60))), ["never", "30", "60", "90", "365"]);
        assert_eq!(
            options(Some(Some(60)))[2].1,
            "In 60 days (organization default)"
        );
        assert_eq!(values(Some(Some(400))), ["never", "30", "90", "365", "400"]);
    }

    #[test]
    fn an_unknown_default_is_offered_as_such_and_sent_empty() {
        assert_eq!(values(None), ["", "never", "30", "90", "365"]);
        assert_eq!(choice_of(None), "");
        assert_eq!(choice_of(Some(None)), "never");
        assert_eq!(choice_of(Some(Some(30))), "30");
    }
}
