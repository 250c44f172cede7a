"""The small catalogue and accounts the browser journeys need, written straight through the ORM."""

from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone

from shop.models import Brand, Category, Product

PASSWORD = "Journey-pass-2026!"


def catalogue():
    """Two categories, a few Chinese-named products with stock; returns {slug: product}."""
    tea = Category.objects.create(name="茶饮", slug="tea", position=1)
    audio = Category.objects.create(name="耳机音响", slug="audio", position=2)
    brand = Brand.objects.create(name="山野", slug="shanye")
    rows = [
        (tea, "西湖龙井绿茶", "longjing", "128.00", 50),
        (tea, "云南普洱熟茶", "puer", "88.00", 50),
        (tea, "安溪铁观音", "tieguanyin", "66.00", 50),
        (audio, "降噪蓝牙耳机", "anc-earbuds", "399.00", 20),
        (audio, "便携蓝牙音箱", "speaker", "159.00", 20),
    ]
    products = {}
    for number, (category, name, slug, price, stock) in enumerate(rows):
        products[slug] = Product.objects.create(
            category=category,
            brand=brand,
            name=name,
            slug=slug,
            sku=f"E2E-{number:03d}",
            price=Decimal(price),
            stock=stock,
            description=f"{name}，产地直供。",
            sales_count=10 * (len(rows) - number),
        )
    return products


def member(email, *, staff=False, superuser=False, verified=True):
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(email=email, password=PASSWORD)
    else:
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=staff)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def coupon_template(**fields):
    from members.models import CouponTemplate

    defaults = dict(
        name="新客立减10元",
        amount=Decimal("10.00"),
        min_spend=Decimal("50.00"),
        valid_until=timezone.now() + timedelta(days=30),
        per_member_limit=1,
    )
    defaults.update(fields)
    return CouponTemplate.objects.create(**defaults)


def recommender_run(products):
    """An active training run: popular list for everyone, and teas similar to each other."""
    from recommender.models import PopularProduct, ProductSimilarity, TrainingRun

    run = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        is_active=True,
        serving_model="itemknn",
        activated_at=timezone.now(),
    )
    popular = ["speaker", "anc-earbuds", "tieguanyin", "puer", "longjing"]
    PopularProduct.objects.bulk_create(
        PopularProduct(run=run, segment="all", product=products[slug], score=100 - rank, rank=rank + 1)
        for rank, slug in enumerate(popular)
    )
    teas = ["longjing", "puer", "tieguanyin"]
    ProductSimilarity.objects.bulk_create(
        ProductSimilarity(
            run=run,
            product=products[seed],
            similar_product=products[other],
            kind=ProductSimilarity.Kind.ALSO_VIEWED,
            score=0.9 - 0.1 * rank,
            rank=rank + 1,
        )
        for seed in teas
        for rank, other in enumerate(t for t in teas if t != seed)
    )
    _model_artifact(run, [[products[slug] for slug in teas]] * 3)
    return run


def _model_artifact(run, baskets):
    """The run's fitted serving model (item-kNN over made-up baskets): a member's refresh folds their
    history into it, as after a nightly run."""
    import pandas as pd

    from recommender import engine

    rows = [(900_000 + i, p.pk, 1.0) for i, basket in enumerate(baskets) for p in basket]
    model = engine.model_build(run.serving_model).fit(
        pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])
    )
    category = {p.pk: p.category_id for basket in baskets for p in basket}
    engine.artifact_save(
        run.pk,
        {
            "models": {run.serving_model: model},
            "member_ids": [],
            "serving": run.serving_model,
            "item_category": category,
        },
    )
