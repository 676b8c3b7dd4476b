from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from community import views as community_views
from community.forms import ThrottledAuthenticationForm
from config import ops
from moderation import views as moderation_views

account_urls = [
    path("", community_views.account, name="account"),
    path("signup/", community_views.signup, name="signup"),
    path(
        "login/",
        community_views.ThrottledLoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("recover/", community_views.recover, name="recover"),
    path("recovery-codes/", community_views.recovery_codes, name="recovery_codes"),
    path("recovery-codes/saved/", community_views.recovery_codes_saved, name="recovery_codes_saved"),
    path("sessions/end-others/", community_views.end_other_sessions, name="end_other_sessions"),
    path("password/", community_views.PasswordChange.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("delete/", community_views.delete_account, name="delete_account"),
    path("export/", community_views.export_my_data, name="export_my_data"),
    path("notifications/", community_views.notification_list, name="notifications"),
    path("notifications/read/", community_views.notifications_read, name="notifications_read"),
    path("notifications/<int:note_id>/open/", community_views.notification_open, name="notification_open"),
    # The reports a member made live with moderation; the page belongs to their account.
    path("reports/", moderation_views.my_reports, name="my_reports"),
]

urlpatterns = [
    path("accounts/", include(account_urls)),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("moderation/", include("moderation.urls")),
    path("library/", include("library.urls")),
    path("", include("chat.urls")),
    path("sessions/", include("schedules.urls")),  # issue 12
    path("", include("community.urls")),
]
