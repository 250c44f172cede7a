"""factory_boy factories for recommender tests: catalogue, members, behaviour and a trained run."""

from decimal import Decimal

import factory
from django.utils import timezone

from members.models import Profile
from recommender.models import MemberRecommendation, PopularProduct, ProductSimilarity, TrainingRun
from shop.models import Event, Order, OrderLine
from shop.tests import factories as shop_factories


class CategoryFactory(shop_factories.CategoryFactory):
    slug = factory.Sequence(lambda n: f"rec-category-{n}")


class ProductFactory(shop_factories.ProductFactory):
    """Products whose descriptions share words, so the content model finds neighbours."""

    category = factory.SubFactory(CategoryFactory)
    brand = None
    name = factory.Sequence(lambda n: f"商品{n}")
    slug = factory.Sequence(lambda n: f"rec-product-{n}")
    sku = factory.Sequence(lambda n: f"REC-{n:05d}")
    price = Decimal("19.90")
    list_price = None
    stock = 10
    description = "舒适 耐用 好用"
    attributes = factory.LazyFunction(dict)


class UserFactory(shop_factories.UserFactory):
    email = factory.Sequence(lambda n: f"member{n}@example.com")
    password = factory.django.Password("pass-1234-word")


def profile_for(user, **fields):
    profile, _ = Profile.objects.get_or_create(user=user)
    for key, value in fields.items():
        setattr(profile, key, value)
    profile.save()
    return profile


class EventFactory(shop_factories.EventFactory):
    user = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory)
    created_at = factory.LazyFunction(timezone.now)


def order_paid_for(user, products, number=None):
    """A paid order of `products` (one each) for `user`."""
    order = Order.objects.create(
        number=number or f"R{Order.objects.count() + 1:08d}{user.pk}",
        user=user,
        status=Order.Status.PAID,
        idempotency_key=f"key-{user.pk}-{Order.objects.count()}-{timezone.now().timestamp()}",
        subtotal=Decimal("0"),
        total=Decimal("0"),
        shipping_method="standard",
        recipient_name="张三",
        phone="13800000000",
        province="上海",
        city="上海",
        address_line="人民路 1 号",
        paid_at=timezone.now(),
    )
    for product in products:
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            sku=product.sku,
            unit_price=product.price,
            quantity=1,
            line_total=product.price,
        )
    return order


def behaviour_seed(*, members=30, products=24, seed=7):
    """Clustered behaviour: members of a group view and buy products of the same group."""
    import random

    rng = random.Random(seed)
    categories = [CategoryFactory() for _ in range(3)]
    catalogue = [
        ProductFactory(category=categories[i % 3], name=f"商品{i} 类{i % 3}") for i in range(products)
    ]
    people = [UserFactory() for _ in range(members)]
    events = []
    for index, person in enumerate(people):
        group = [p for p in catalogue if p.category_id == categories[index % 3].pk]
        for product in rng.sample(group, k=min(5, len(group))):
            events.append(Event(user=person, product=product, kind=Event.Kind.VIEW))
        bought = rng.sample(group, k=2)
        events.extend(Event(user=person, product=p, kind=Event.Kind.CART_ADD) for p in bought)
        order_paid_for(person, bought)
    Event.objects.bulk_create(events)
    return categories, catalogue, people


def active_run(**fields):
    run = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        is_active=True,
        serving_model="itemknn",
        activated_at=timezone.now(),
        **fields,
    )
    return run


def popular_rows(run, products, segment="all"):
    PopularProduct.objects.bulk_create(
        PopularProduct(run=run, segment=segment, product=p, score=100 - i, rank=i + 1)
        for i, p in enumerate(products)
    )


def member_rows(run, user, products, model="itemknn", reason="similar_to_seen", reason_product=None):
    MemberRecommendation.objects.bulk_create(
        MemberRecommendation(
            run=run,
            user=user,
            product=p,
            model=model,
            score=10 - i * 0.1,
            rank=i + 1,
            reason=reason,
            reason_product=reason_product,
        )
        for i, p in enumerate(products)
    )


def similar_rows(run, product, similar, kind=ProductSimilarity.Kind.ALSO_VIEWED):
    ProductSimilarity.objects.bulk_create(
        ProductSimilarity(
            run=run, product=product, similar_product=p, kind=kind, score=1 - i * 0.01, rank=i + 1
        )
        for i, p in enumerate(similar)
    )


def model_artifact(run, baskets, model="itemknn", serving=None):
    """Fit `model` on `baskets` (lists of products seen together by one made-up shopper each) and store
    it as `run`'s artifact, as the nightly run does: the refresh and guest lists fold histories into it."""
    import pandas as pd

    from recommender import engine
    from recommender.serving import fitted_models_forget

    rows = [(900_000 + i, p.pk, 1.0) for i, basket in enumerate(baskets) for p in basket]
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "weight"])
    products = {p.pk: p for basket in baskets for p in basket}
    fitted = engine.model_build(model).fit(interactions)
    engine.artifact_save(
        run.pk,
        {
            "models": {model: fitted},
            "member_ids": [],
            "serving": serving or model,
            "item_category": {pk: p.category_id for pk, p in products.items()},
        },
    )
    fitted_models_forget()
    return fitted
