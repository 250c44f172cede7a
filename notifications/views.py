"""Message centre pages: the member's messages (mark read, all read) and their message preferences."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import selectors
from notifications.forms import MessagePreferenceForm
from notifications.services import messages


@login_required
def inbox(request):
    page = Paginator(selectors.messages_for(request.user), 20).get_page(request.GET.get("page"))
    unread = selectors.unread_count(request.user)
    return render(
        request,
        "notifications/inbox.html",
        {"section": "messages", "page": page, "unread": unread, "unread_message_count": unread},
    )


@login_required
def unread_count(request):
    """The header badge's number when the cache did not know it (counted once, then remembered)."""
    response = JsonResponse({"unread": selectors.unread_count(request.user)})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def message_read(request, message_id):
    message = messages.message_mark_read(user=request.user, message_id=message_id)
    # Only our own paths: a message link is never a way off the site.
    if (
        message
        and message.link
        and request.POST.get("open")
        and url_has_allowed_host_and_scheme(message.link, allowed_hosts=None)
    ):
        return redirect(message.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def messages_read_all(request):
    count = messages.messages_mark_all_read(user=request.user)
    flash.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    return redirect("notifications:inbox")


@login_required
def preferences(request):
    preference = messages.preference_for(request.user)
    form = MessagePreferenceForm(request.POST or None, preference=preference)
    if request.method == "POST" and form.is_valid():
        messages.preference_update(
            user=request.user, language=form.cleaned_data["language"], opted_out=form.opted_out()
        )
        flash.success(request, _("消息设置已保存。"))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"section": "message_preferences", "form": form})
