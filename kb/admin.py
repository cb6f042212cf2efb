from django.contrib import admin

from kb import services
from kb.models import Article, ArticleTranslation, Category, Section


class SectionInline(admin.TabularInline):
    model = Section
    extra = 1


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [SectionInline]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "section", "status", "visibility", "updated_at", "view_count"]
    list_filter = ["status", "visibility", "section__category"]
    search_fields = ["title"]
    readonly_fields = ["body_html", "body_text", "view_count", "helpful_count", "not_helpful_count"]
    raw_id_fields = ["related", "author", "updated_by"]


@admin.register(ArticleTranslation)
class ArticleTranslationAdmin(admin.ModelAdmin):
    """Translations for superusers; agents write them in the knowledge base's own editor
    (kb.agent_views.translation_edit). Both save through kb.services.save_translation."""

    list_display = ["title", "article", "language", "status", "updated_at"]
    list_filter = ["language", "status"]
    search_fields = ["title", "article__title"]
    raw_id_fields = ["article"]
    fields = ["article", "language", "title", "body_markdown", "status"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        saved = services.save_translation(
            obj.article,
            obj.language,
            editor=request.user,
            title=obj.title,
            body_markdown=obj.body_markdown,
            status=obj.status,
        )
        obj.pk = saved.pk
