from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from community import views as community_views
from community.forms import ThrottledAuthenticationForm
from community.views import ThrottledLoginView, delete_account, signup
from config import ops

urlpatterns = [
    path("accounts/signup/", signup, name="signup"),
    path(
        "accounts/login/",
        ThrottledLoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", community_views.PasswordChange.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/delete/", delete_account, name="delete_account"),
    path("accounts/export/", community_views.export_my_data, name="export_my_data"),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("moderation/", include("moderation.urls")),
    path("", include("community.urls")),
]
