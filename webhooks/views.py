"""The webhooks page of the settings area, for admins: endpoints created and changed,
the secret rotated (shown once), a test sent, and the delivery log with replay."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tickets.permissions import AuthedRequest, admin_required
from webhooks import selectors, services
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

LOG_PAGE_SIZE = 25


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=gettext_lazy("Where Tandem POSTs."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("What listens."),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def save(self, endpoint: WebhookEndpoint | None, actor: object) -> WebhookEndpoint | None:
        """The endpoint created or changed, or None with the refusal on its fields."""
        try:
            if endpoint is None:
                return services.create_endpoint(**self.cleaned_data, actor=actor)  # type: ignore[arg-type]
            return services.update_endpoint(endpoint, **self.cleaned_data, actor=actor)  # type: ignore[arg-type]
        except services.InvalidEndpoint as refusal:
            for name, text in refusal.errors.items():
                self.add_error(name, text)
            return None


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk)


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def endpoint_list(request: AuthedRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint = form.save(None, request.user)
        if endpoint is not None:
            request.session["webhook-secret"] = endpoint.secret
            return redirect("webhooks:edit", endpoint.pk)
    status = 422 if form.is_bound else 200
    context = {"form": form, "endpoints": WebhookEndpoint.objects.order_by("pk")}
    return render(request, "webhooks/list.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@admin_required
def endpoint_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "active": endpoint.active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and form.save(endpoint, request.user):
        messages.success(request, _("Webhook saved."))
        return redirect("webhooks:edit", endpoint.pk)
    log = Paginator(selectors.deliveries(endpoint), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "form": form,
        "log": log,
        "new_secret": request.session.pop("webhook-secret", ""),
    }
    return render(request, "webhooks/edit.html", context, status=422 if form.is_bound else 200)


@require_POST
@admin_required
def endpoint_rotate(request: AuthedRequest, pk: int) -> HttpResponse:
    request.session["webhook-secret"] = services.rotate_secret(_endpoint(pk), actor=request.user)
    messages.success(request, _("New secret made: the old one no longer signs deliveries."))
    return redirect("webhooks:edit", pk)


@require_POST
@admin_required
def endpoint_test(request: AuthedRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    if not endpoint.active:
        messages.error(request, _("Turn the webhook on to send a test."))
    else:
        services.send_test(endpoint)
        messages.success(request, _("Test delivery queued: it appears in the log below."))
    return redirect("webhooks:edit", pk)


@require_POST
@admin_required
def endpoint_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    services.delete_endpoint(endpoint, actor=request.user)
    messages.success(request, _("Webhook %(url)s deleted.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@require_POST
@admin_required
def delivery_replay(request: AuthedRequest, pk: int, delivery_id: UUID) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, endpoint_id=pk, delivery_id=delivery_id)
    if services.redeliver(delivery):
        messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.delivery_id})
    else:
        messages.error(request, _("That delivery is still pending: it will be sent."))
    return redirect("webhooks:edit", pk)
