from django.urls import path

from . import agency_views, views, views_moderation, views_teams, views_trust

app_name = "accounts"

urlpatterns = [
    path("me/start/", views.start, name="start"),
    path("me/role/", views.role_switch, name="role_switch"),
    path("me/onboarding/", views.onboarding, name="onboarding"),
    path("me/onboarding/skills/", views.skill_options, name="skill_options"),
    path("me/onboarding/<slug:step>/", views.onboarding, name="onboarding_step"),
    path("me/profile/publish/", views.profile_publish, name="profile_publish"),
    path("me/profile/unpublish/", views.profile_unpublish, name="profile_unpublish"),
    path(
        "me/profile/<slug:kind>/<int:item_id>/delete/", views.profile_item_delete, name="profile_item_delete"
    ),
    path("me/client/profile/", views.client_profile, name="client_profile"),
    path("me/settings/", views.account_settings, name="settings"),
    path("me/settings/delete/", views.account_delete, name="delete"),
    path("me/settings/identity/", views_trust.identity_submit, name="identity_submit"),
    path(
        "me/identity/<int:verification_id>/document/",
        views_trust.identity_document,
        name="identity_document",
    ),
    path("staff/", views_trust.staff_dashboard, name="staff_dashboard"),
    path("report/<str:label>/<int:object_id>/", views_moderation.report, name="report"),
    path("staff/moderation/", views_moderation.queue, name="moderation_queue"),
    path("staff/moderation/<str:label>/<int:object_id>/", views_moderation.act, name="moderation_act"),
    path("me/assessments/", views.assessment_list, name="assessments"),
    path("me/assessments/<int:assessment_id>/start/", views.assessment_start, name="assessment_start"),
    path("me/assessments/attempts/<int:attempt_id>/", views.assessment_attempt, name="assessment_attempt"),
    path(
        "me/assessments/attempts/<int:attempt_id>/result/", views.assessment_result, name="assessment_result"
    ),
    # client teams (accounts/views_teams.py)
    path("me/teams/", views_teams.team_list, name="teams"),
    path("me/teams/invitations/", views_teams.team_list, name="team_invitations"),
    path("me/teams/new/", views_teams.team_create, name="team_create"),
    path("me/teams/<int:team_id>/", views_teams.team_detail, name="team_detail"),
    path("me/teams/<int:team_id>/rename/", views_teams.team_rename, name="team_rename"),
    path("me/teams/<int:team_id>/invite/", views_teams.member_invite, name="team_invite"),
    path("me/teams/<int:team_id>/leave/", views_teams.team_leave, name="team_leave"),
    path(
        "me/teams/<int:team_id>/members/<int:user_id>/role/", views_teams.member_role, name="team_member_role"
    ),
    path(
        "me/teams/<int:team_id>/members/<int:user_id>/remove/",
        views_teams.member_remove,
        name="team_member_remove",
    ),
    path(
        "me/teams/invitations/<int:invitation_id>/revoke/",
        views_teams.invitation_revoke,
        name="team_invitation_revoke",
    ),
    path(
        "me/teams/invitations/<int:invitation_id>/<str:action>/",
        views_teams.invitation_respond,
        name="team_invitation_respond",
    ),
    path("teams/join/<str:token>/", views_teams.invitation_by_token, name="team_invitation"),
    # agencies (accounts/agency_views.py): fixed routes before the slug ones
    path("agencies/", agency_views.agency_index, name="agencies"),
    path("agencies/new/", agency_views.agency_create, name="agency_create"),
    path(
        "agencies/invitations/<int:invitation_id>/respond/",
        agency_views.invitation_respond,
        name="agency_invitation_respond",
    ),
    path("agencies/invitations/<str:token>/", agency_views.invitation, name="agency_invitation"),
    path("agencies/<slug:slug>/", agency_views.agency_detail, name="agency_detail"),
    path("agencies/<slug:slug>/manage/", agency_views.agency_manage, name="agency_manage"),
    path("agencies/<slug:slug>/invite/", agency_views.agency_invite, name="agency_invite"),
    path(
        "agencies/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        agency_views.invitation_revoke,
        name="agency_invitation_revoke",
    ),
    path(
        "agencies/<slug:slug>/members/<int:user_id>/role/",
        agency_views.member_role,
        name="agency_member_role",
    ),
    path(
        "agencies/<slug:slug>/members/<int:user_id>/remove/",
        agency_views.member_remove,
        name="agency_member_remove",
    ),
    path("agencies/<slug:slug>/transfer/", agency_views.ownership_transfer, name="agency_transfer"),
    path("agencies/<slug:slug>/leave/", agency_views.agency_leave, name="agency_leave"),
    path("agencies/<slug:slug>/earnings/", agency_views.agency_earnings, name="agency_earnings"),
    path("freelancers/", views.freelancer_list, name="freelancer_list"),
    path("freelancers/<str:public_id>/", views.freelancer_detail, name="freelancer_detail"),
]
