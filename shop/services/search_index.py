"""The product search index: written when a product, its brand, category or tags change, or rebuilt whole."""

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from shop import search
from shop.models import Brand, Category, Product, Tag

BATCH = 500
# Fields whose change changes what a product is found by (a save naming only others, like the stock, skips).
INDEXED_FIELDS = frozenset(
    {"name", "brand", "brand_id", "category", "category_id", "description", "attributes"}
)

# The weighted tsvector from the four lexeme columns ('simple': no stemming, no stop words; the lexemes
# are already what we want). Run after the columns are written, on PostgreSQL only.
VECTOR_SQL = """
UPDATE shop_product SET search_vector =
    setweight(to_tsvector('simple', search_name), 'A')
    || setweight(to_tsvector('simple', search_meta), 'B')
    || setweight(to_tsvector('simple', search_tags), 'C')
    || setweight(to_tsvector('simple', search_body), 'D')
WHERE id = ANY(%s)
"""


def _category_paths() -> dict[int, list[str]]:
    """{category id: [its name, its parent's name, ...]}: one query for the whole tree."""
    rows = {
        pk: (parent_id, name)
        for pk, parent_id, name in Category.objects.values_list("id", "parent_id", "name")
    }
    paths = {}
    for pk in rows:
        names, current, seen = [], pk, set()
        while current is not None and current in rows and current not in seen:
            seen.add(current)
            parent_id, name = rows[current]
            names.append(name)
            current = parent_id
        paths[pk] = names
    return paths


def _document(product, paths) -> search.Document:
    specs = product.attributes.values() if isinstance(product.attributes, dict) else ()
    return search.document(
        name=product.name,
        brand=product.brand.name if product.brand_id else "",
        categories=paths.get(product.category_id, ()),
        tags=[tag.name for tag in product.tags.all()],
        description=product.description,
        specs=specs,
    )


def search_index_update(*, product_ids) -> int:
    """Write the index of these products (missing ids are ignored); returns how many were written."""
    ids = sorted({int(pk) for pk in product_ids if pk is not None})
    if not ids:
        return 0
    written = 0
    paths = _category_paths()
    with transaction.atomic():
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            products = list(
                Product.objects.filter(pk__in=chunk)
                .select_related("brand")
                .prefetch_related("tags")
                .only("id", "name", "description", "attributes", "category_id", "brand__name")
            )
            for product in products:
                for field, value in _document(product, paths).as_fields().items():
                    setattr(product, field, value)
            Product.objects.bulk_update(products, [f"search_{field}" for field in search.FIELDS])
            if connection.vendor == "postgresql" and products:
                with connection.cursor() as cursor:
                    cursor.execute(VECTOR_SQL, [[p.pk for p in products]])
            written += len(products)
    return written


def search_index_rebuild(*, progress=False, stdout=None) -> int:
    """Reindex every product in batches (a tqdm bar when progress is on); returns the number written."""
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    batches = range(0, len(ids), BATCH)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="search index", unit="batch", file=stdout, total=len(batches))
    written = 0
    for start in batches:
        written += search_index_update(product_ids=ids[start : start + BATCH])
    if connection.vendor == "postgresql" and written:
        # Rewriting every row fills the GIN index's pending list (scanned linearly by each search until
        # merged) and leaves the planner's statistics stale: merge it and re-analyse now, not at autovacuum.
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list('shop_product_search_vector_gin'::regclass)")
            cursor.execute("ANALYZE shop_product")
    return written


# --- receivers: keep the index current when what it is built from changes ---------------------------


def _on_product_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and not INDEXED_FIELDS.intersection(update_fields)):
        return
    search_index_update(product_ids=[instance.pk])


def _on_brand_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        search_index_update(product_ids=Product.objects.filter(brand=instance).values_list("pk", flat=True))


def _on_category_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # Its products and its descendants' products carry its name in their category path.
    ids, frontier = [instance.pk], [instance.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    search_index_update(product_ids=Product.objects.filter(category_id__in=ids).values_list("pk", flat=True))


def _on_tag_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        search_index_update(product_ids=instance.products.values_list("pk", flat=True))


def _remember_products(sender, instance, **kwargs):
    # A deleted brand or tag leaves its products (brand set to NULL, tag links dropped) without a signal
    # per product: note them before the delete, reindex after.
    instance._search_product_ids = list(instance.products.values_list("pk", flat=True))


def _reindex_remembered(sender, instance, **kwargs):
    search_index_update(product_ids=getattr(instance, "_search_product_ids", ()))


def _on_tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if not reverse:
        if action != "pre_clear":
            search_index_update(product_ids=[instance.pk])
    elif action == "pre_clear":
        instance._search_product_ids = list(instance.products.values_list("pk", flat=True))
    elif action == "post_clear":
        search_index_update(product_ids=getattr(instance, "_search_product_ids", ()))
    else:
        search_index_update(product_ids=pk_set or ())


def search_index_receivers_connect():
    """Connected once from ShopConfig.ready()."""
    uid = "shop.search_index"
    post_save.connect(_on_product_saved, sender=Product, dispatch_uid=f"{uid}.product")
    post_save.connect(_on_brand_saved, sender=Brand, dispatch_uid=f"{uid}.brand")
    post_save.connect(_on_category_saved, sender=Category, dispatch_uid=f"{uid}.category")
    post_save.connect(_on_tag_saved, sender=Tag, dispatch_uid=f"{uid}.tag")
    for model in (Brand, Tag):
        pre_delete.connect(_remember_products, sender=model, dispatch_uid=f"{uid}.{model.__name__}.pre")
        post_delete.connect(_reindex_remembered, sender=model, dispatch_uid=f"{uid}.{model.__name__}.post")
    m2m_changed.connect(_on_tags_changed, sender=Product.tags.through, dispatch_uid=f"{uid}.tags")
