"""Product search: pg_trgm, the GIN indexes (PostgreSQL only), and the index filled for existing products.

The search_* columns themselves are added by 0005. The indexes are made here by SQL because SQLite has no
GIN: on SQLite these steps do nothing but fill the lexeme columns, which its LIKE fallback reads.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    "CREATE INDEX IF NOT EXISTS shop_product_search_vector_gin ON shop_product USING gin (search_vector)",
    # Partial words inside a name's Latin or pinyin lexemes ("biao" in "shubiao"): LIKE '%…%' uses it.
    "CREATE INDEX IF NOT EXISTS shop_product_search_name_trgm ON shop_product USING gin (search_name gin_trgm_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS shop_product_search_vector_gin",
    "DROP INDEX IF EXISTS shop_product_search_name_trgm",
]
VECTOR_SQL = """
UPDATE shop_product SET search_vector =
    setweight(to_tsvector('simple', search_name), 'A')
    || setweight(to_tsvector('simple', search_meta), 'B')
    || setweight(to_tsvector('simple', search_tags), 'C')
    || setweight(to_tsvector('simple', search_body), 'D')
"""


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in INDEXES:
            schema_editor.execute(sql)


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


def index_fill(apps, schema_editor):
    """Index the products that exist (a fresh database has none; a running shop has its catalogue)."""
    from shop import search

    Product = apps.get_model("shop", "Product")
    Category = apps.get_model("shop", "Category")
    if not Product.objects.exists():
        return
    rows = {
        pk: (parent, name) for pk, parent, name in Category.objects.values_list("id", "parent_id", "name")
    }

    def path(pk):
        names, seen = [], set()
        while pk is not None and pk in rows and pk not in seen:
            seen.add(pk)
            pk, name = rows[pk]
            names.append(name)
        return names

    fields = [f"search_{field}" for field in search.FIELDS]
    products = list(Product.objects.select_related("brand").prefetch_related("tags"))
    for product in products:
        doc = search.document(
            name=product.name,
            brand=product.brand.name if product.brand_id else "",
            categories=path(product.category_id),
            tags=[tag.name for tag in product.tags.all()],
            description=product.description,
            specs=product.attributes.values() if isinstance(product.attributes, dict) else (),
        )
        for field, value in doc.as_fields().items():
            setattr(product, field, value)
    Product.objects.bulk_update(products, fields, batch_size=500)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(VECTOR_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0005_fulfilment_aftersales"),
    ]

    operations = [
        TrigramExtension(),  # does nothing on SQLite
        migrations.RunPython(indexes_create, indexes_drop, elidable=False),
        migrations.RunPython(index_fill, migrations.RunPython.noop),
    ]
