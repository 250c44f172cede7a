"""Sitemaps for search engines: the home page, active categories and products on sale."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from shop.models import Category, Product


class HomeSitemap(Sitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["shop:home"]

    def location(self, item):
        return reverse(item)


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.7

    def items(self):
        # A category under a deactivated parent is hidden from the shop too.
        return (
            Category.objects.filter(is_active=True)
            .exclude(parent__is_active=False)
            .only("slug")
            .order_by("pk")
        )


class ProductSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    limit = 5000

    def items(self):
        return (
            Product.objects.filter(is_active=True, category__is_active=True)
            .only("slug", "updated_at")
            .order_by("pk")
        )

    def lastmod(self, product):
        return product.updated_at


SITEMAPS = {"home": HomeSitemap, "categories": CategorySitemap, "products": ProductSitemap}
