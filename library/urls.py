from django.urls import path

from . import views
from .private import views as private

app_name = "library"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("recheck/", views.recheck, name="recheck"),
    path("r/<int:pk>/", views.resource_page, name="resource"),
    path("r/<int:pk>/edit/", views.edit, name="edit"),
    path("r/<int:pk>/remove/", views.remove, name="remove"),
    path("r/<int:pk>/verify/", views.verify, name="verify"),
    path("r/<int:pk>/pin/", views.pin, name="pin"),
    path("r/<int:pk>/attach/", views.attach, name="attach"),
    path("r/<int:pk>/fill/", private.sheet_fill, name="fill"),
    # the member's own, private
    path("journal/", private.timeline, name="journal"),
    path("journal/new/", private.entry_new, name="entry_new"),
    path("journal/export/", private.export_zip, name="export"),
    path("journal/erase/", private.erase, name="erase"),
    path("journal/<int:pk>/", private.entry, name="entry"),
    path("journal/<int:pk>/edit/", private.entry_edit, name="entry_edit"),
    path("journal/<int:pk>/delete/", private.entry_delete, name="entry_delete"),
    path("journal/<int:pk>/voice/", private.voice_file, name="voice"),
    path("journal/<int:pk>/voice/delete/", private.voice_delete, name="voice_delete"),
    path("worksheets/<int:pk>/", private.sheet, name="sheet"),
    path("worksheets/<int:pk>/delete/", private.sheet_delete, name="sheet_delete"),
]
