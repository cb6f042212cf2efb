from django.contrib import admin

from kb.models import Article, Category, Section


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
