//! `/settings/members`: who is in the organization and with which role; for owners, invitations
//! (a one-time link to pass on, shown once) and role changes. Anyone but the last owner can leave.

use crate::api::members::{change_role, get_team, invite, leave, remove_member, revoke_invitation};
use crate::components::copy_button::CopyField;
use crate::components::field::TextField;
use crate::components::protected::{Protected, me_resource, use_me_version, when_signed_in};
use crate::components::toast::use_toaster;
use crate::error::AppError;
use crate::model::{
    Capability, Email, FieldError, InvitationRow, InvitationState, Me, MemberRow, Role, Team,
    time_format,
};
use crate::pages::settings::SettingsNav;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn MembersPage() -> impl IntoView {
    let me = me_resource();
    let version = use_me_version();
    let team = Resource::new(move || version.get(), move |_| when_signed_in(me, get_team));
    // Held here, above everything an invitation refetches: the refetch renders the page anew, and
    // a link kept inside it would vanish the moment it was shown.
    let issued = RwSignal::new(None::<IssuedLink>);
    view! {
        <Title text="Members · Settings · Keygate"/>
        <Protected me children=Box::new(move |me| view! {
            <h1>"Settings"</h1>
            <SettingsNav me=me.clone()/>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let me = me.clone();
                    Suspend::new(async move {
                        match team.await {
                            Ok(Some(team)) => view! { <Members me team issued/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(e) => view! { <div class="banner error">{e.to_string()}</div> }.into_any(),
                        }
                    })
                }}
            </Transition>
        }.into_any())/>
    }
}

/// The invitation link last issued on this page, and for whom: shown until the page is left or
/// that invitation is revoked.
#[derive(Clone)]
struct IssuedLink {
    invitation_id: String,
    email: String,
    url: String,
}

#[component]
fn Members(me: Me, team: Team, issued: RwSignal<Option<IssuedLink>>) -> impl IntoView {
    let owner = me.can(Capability::ManageMembers);
    let you = team.you.clone();
    let owners = team
        .members
        .iter()
        .filter(|m| m.role == Role::Owner)
        .count();

    view! {
        <section class="panel">
            <h2>"Members"</h2>
            <p class="hint">"Owners manage members and roles; admins manage clients, devices and workspaces; viewers read clients, devices and activity and change nothing."</p>
            <table class="table" data-testid="members">
                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th></th></tr></thead>
                <tbody>
                    {team.members.into_iter().map(|m| {
                        let is_you = m.user_id == you;
                        // The server refuses it too; the page says why before anyone tries.
                        let last_owner = m.role == Role::Owner && owners == 1;
                        view! { <MemberLine member=m owner is_you last_owner/> }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        {owner.then(|| view! {
            <InviteForm link=issued/>
            <Invitations rows=team.invitations issued/>
        })}
    }
}

#[component]
fn MemberLine(member: MemberRow, owner: bool, is_you: bool, last_owner: bool) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let id = StoredValue::new(member.user_id.clone());
    let email = member.email.clone();
    let on_role = move |ev| {
        let Ok(role) = Role::parse(&event_target_value(&ev)) else {
            return;
        };
        let request = change_role(id.get_value(), role);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => toaster.success(format!("Now {}", role.label())),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    let on_remove = move |_| {
        let request = remove_member(id.get_value());
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(()) => toaster.success("Member removed"),
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    let on_leave = move |_| {
        leptos::task::spawn_local(async move {
            match leave().await {
                Ok(()) => {
                    toaster.success("You left the organization");
                    version.update(|v| *v += 1);
                }
                Err(e) => toaster.error(e.to_string()),
            }
        });
    };
    let role = member.role;
    view! {
        <tr data-member=email.clone()>
            <td>{email.clone()}{is_you.then(|| view! { " " <span class="badge">"you"</span> })}</td>
            <td>
                {if owner {
                    view! {
                        <select aria-label=format!("Role of {email}") data-testid="member-role" on:change=on_role
                            disabled=last_owner title=if last_owner { "The last owner keeps this role: make someone else an owner first." } else { "" }>
                            {Role::ALL.iter().map(|r| view! {
                                <option value=r.as_str() selected=*r == role>{r.label()}</option>
                            }).collect_view()}
                        </select>
                    }.into_any()
                } else {
                    view! { <span class="badge">{role.label()}</span> }.into_any()
                }}
            </td>
            <td>{time_format::utc_minutes(member.joined_at)}</td>
            <td class="actions">
                {if is_you {
                    view! {
                        <button type="button" class="small" data-testid="leave" on:click=on_leave disabled=last_owner
                            title=if last_owner { "The last owner cannot leave: make someone else an owner first." } else { "" }>"Leave"</button>
                    }.into_any()
                } else if owner {
                    view! { <button type="button" class="small danger" data-testid="remove-member" on:click=on_remove>"Remove"</button> }.into_any()
                } else {
                    ().into_any()
                }}
            </td>
        </tr>
    }
}

#[component]
fn InviteForm(link: RwSignal<Option<IssuedLink>>) -> impl IntoView {
    let version = use_me_version();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let email_error =
        Signal::derive(move || error.get().and_then(|e| e.for_field(FieldError::Email)));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Err(e) = Email::parse(&email.get_untracked()) {
            error.set(Some(e.into()));
            return;
        }
        let request = invite(email.get_untracked(), role.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            match request.await {
                Ok(issued) => {
                    let origin = window().location().origin().unwrap_or_default();
                    link.set(Some(IssuedLink {
                        invitation_id: issued.invitation.id,
                        email: issued.invitation.email,
                        url: format!("{origin}{}", issued.path),
                    }));
                    email.set(String::new());
                    error.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="panel">
            <h2>"Invite someone"</h2>
            <p class="hint">"Keygate sends no email: you get a link to pass on. It works once, for 7 days, and only for the address you invite."</p>
            <form class="inline-form" on:submit=on_submit data-testid="invite">
                <TextField label="Email" name="invite_email" value=email error=email_error input_type="email"/>
                <div class="field">
                    <label for="field-invite_role">"Role"</label>
                    <select id="field-invite_role" name="invite_role" data-testid="invite-role" on:change=move |ev| {
                        if let Ok(r) = Role::parse(&event_target_value(&ev)) { role.set(r) }
                    }>
                        {Role::ALL.iter().map(|r| view! {
                            <option value=r.as_str() selected=*r == Role::Viewer>{format!("{} — {}", r.label(), r.summary())}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>"Create invitation link"</button>
                {move || error.get().filter(|e| e.for_field(FieldError::Email).is_none()).map(|e| view! {
                    <div class="banner error" role="alert">{e.to_string()}</div>
                })}
            </form>
            {move || link.get().map(|IssuedLink { email, url, .. }| view! {
                <div class="banner success" data-testid="invitation-link">
                    <p>"Send this link to " <strong>{email}</strong> ". It is shown only now."</p>
                    <CopyField label="Invitation link" value=Signal::stored(url) testid="invite-url" secret=true/>
                </div>
            })}
        </section>
    }
}

#[component]
fn Invitations(rows: Vec<InvitationRow>, issued: RwSignal<Option<IssuedLink>>) -> impl IntoView {
    let toaster = use_toaster();
    let version = use_me_version();
    let revoke = move |id: String| {
        leptos::task::spawn_local(async move {
            match revoke_invitation(id.clone()).await {
                Ok(()) => {
                    // Its link, if it is the one shown, would no longer work: take it away.
                    if issued.with_untracked(|l| l.as_ref().is_some_and(|l| l.invitation_id == id))
                    {
                        issued.set(None);
                    }
                    toaster.success("Invitation revoked")
                }
                Err(e) => toaster.error(e.to_string()),
            }
            version.update(|v| *v += 1);
        });
    };
    view! {
        <section class="panel">
            <h2>"Invitations"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"No open invitations."</p> }.into_any()
            } else {
                view! {
                    <table class="table compact" data-testid="invitations">
                        <thead><tr><th>"Email"</th><th>"Role"</th><th>"Invited by"</th><th>"State"</th><th></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|i| {
                                let id = i.id.clone();
                                let email = i.email.clone();
                                let state = match i.state {
                                    InvitationState::Pending => format!("expires {}", time_format::utc_minutes(i.expires_at)),
                                    InvitationState::Expired => "expired".to_owned(),
                                    InvitationState::Revoked => "revoked".to_owned(),
                                    InvitationState::Accepted => "accepted".to_owned(),
                                };
                                view! {
                                    <tr data-invitation=email>
                                        <td>{i.email}</td>
                                        <td>{i.role.label()}</td>
                                        <td>{i.invited_by}</td>
                                        <td>{state}</td>
                                        <td class="actions">
                                            {(i.state == InvitationState::Pending).then(|| view! {
                                                <button type="button" class="small" data-testid="revoke-invitation" on:click=move |_| revoke(id.clone())>"Revoke"</button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
