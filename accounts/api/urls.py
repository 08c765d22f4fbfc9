from django.urls import path

from . import agencies, moderation, teams, views

urlpatterns = [
    # agencies (accounts/api/agencies.py): fixed routes before the slug ones
    path("agencies/mine/", agencies.MyAgenciesApi.as_view(), name="api_my_agencies"),
    path(
        "agencies/invitations/accept/",
        agencies.InvitationAcceptApi.as_view(),
        name="api_agency_invitation_accept",
    ),
    path("agencies/<slug:slug>/", agencies.AgencyDetailApi.as_view(), name="api_agency_detail"),
    path("agencies/<slug:slug>/members/", agencies.AgencyMembersApi.as_view(), name="api_agency_members"),
    path(
        "agencies/<slug:slug>/invitations/",
        agencies.AgencyInvitationsApi.as_view(),
        name="api_agency_invitations",
    ),
    path("agencies/<slug:slug>/balance/", agencies.AgencyBalanceApi.as_view(), name="api_agency_balance"),
    path(
        "agencies/<slug:slug>/distributions/",
        agencies.AgencyDistributionsApi.as_view(),
        name="api_agency_distributions",
    ),
    path("auth/token/", views.TokenObtainApi.as_view(), name="api_token"),
    path("me/", views.MeApi.as_view(), name="api_me"),
    path(
        "me/freelancer-profile/", views.OwnFreelancerProfileApi.as_view(), name="api_own_freelancer_profile"
    ),
    path(
        "me/freelancer-profile/publish/",
        views.OwnFreelancerProfilePublishApi.as_view(),
        name="api_own_freelancer_profile_publish",
    ),
    path("me/client-profile/", views.OwnClientProfileApi.as_view(), name="api_own_client_profile"),
    path("freelancers/", views.FreelancerListApi.as_view(), name="api_freelancer_list"),
    path("freelancers/<str:public_id>/", views.FreelancerDetailApi.as_view(), name="api_freelancer_detail"),
    path("taxonomy/categories/", views.CategoryListApi.as_view(), name="api_categories"),
    path("taxonomy/skills/", views.SkillListApi.as_view(), name="api_skills"),
    path("reports/", moderation.ReportCreateApi.as_view(), name="api_report_create"),
    # client teams (accounts/api/teams.py)
    path("teams/", teams.TeamListApi.as_view(), name="api_teams"),
    path("teams/invitations/", teams.MyTeamInvitationsApi.as_view(), name="api_team_invitations"),
    path(
        "teams/invitations/accept/",
        teams.TeamInvitationAcceptApi.as_view(),
        name="api_team_invitation_accept",
    ),
    path(
        "teams/invitations/decline/",
        teams.TeamInvitationDeclineApi.as_view(),
        name="api_team_invitation_decline",
    ),
    path(
        "teams/invitations/<int:invitation_id>/revoke/",
        teams.TeamInvitationRevokeApi.as_view(),
        name="api_team_invitation_revoke",
    ),
    path("teams/<int:team_id>/", teams.TeamDetailApi.as_view(), name="api_team_detail"),
    path("teams/<int:team_id>/invitations/", teams.TeamInviteApi.as_view(), name="api_team_invite"),
    path("teams/<int:team_id>/leave/", teams.TeamLeaveApi.as_view(), name="api_team_leave"),
    path("teams/<int:team_id>/members/<int:user_id>/", teams.TeamMemberApi.as_view(), name="api_team_member"),
]
