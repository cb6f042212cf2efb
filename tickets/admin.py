from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tickets.models import BusinessCalendar, Customer, Mailbox, Organization, Team, User


@admin.register(User)
class TandemUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Help desk",
            {"fields": ("role", "is_away", "notify_on_assignment", "notify_on_customer_reply")},
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    filter_horizontal = ("members",)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ("name", "address", "is_active", "is_default")
    filter_horizontal = ("teams",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "shares_tickets")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "organization")
    search_fields = ("email", "name")
    raw_id_fields = ("user",)


admin.site.register(BusinessCalendar)

# The quarantine admin lives beside the mail code; importing it registers it.
import tickets.mail.admin  # noqa: E402, F401
