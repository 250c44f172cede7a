"""factory_boy factories for membership tests (and the shop rows they need)."""

from decimal import Decimal

import factory
from django.utils import timezone

from members.models import Address, Coupon, CouponTemplate, Profile, Tier
from shop.models import Order
from shop.tests import factories as shop_factories


class UserFactory(shop_factories.UserFactory):
    """The shop's member factory, onboarded (with a profile) as signup would leave them."""

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        """No allauth address: the tests that log in by email (API token, journeys) verify one."""

    @factory.post_generation
    def onboarded(self, create, extracted, **kwargs):
        if create:
            Profile.objects.get_or_create(user=self)


class CategoryFactory(shop_factories.CategoryFactory):
    pass


class ProductFactory(shop_factories.ProductFactory):
    """Round prices and deep stock keep the points and coupon arithmetic in tests readable."""

    category = factory.SubFactory(CategoryFactory)
    price = Decimal("100.00")
    list_price = None
    stock = 100


class OrderFactory(shop_factories.OrderFactory):
    """An unpaid order of ¥200 (add lines with OrderLineFactory)."""

    user = factory.SubFactory(UserFactory)
    status = Order.Status.PENDING_PAYMENT
    subtotal = Decimal("200.00")
    shipping_fee = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal + o.shipping_fee)


class OrderLineFactory(shop_factories.OrderLineFactory):
    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"tier{n}")
    name = factory.Sequence(lambda n: f"等级{n}")
    position = factory.Sequence(lambda n: n)


class CouponTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CouponTemplate

    name = factory.Sequence(lambda n: f"优惠券{n}")
    kind = CouponTemplate.Kind.FIXED
    amount = Decimal("10.00")
    min_spend = Decimal("0.00")


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    template = factory.SubFactory(CouponTemplateFactory)
    user = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"C{n:011d}")
    source = Coupon.Source.STAFF
    issued_at = factory.LazyFunction(timezone.now)


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    recipient_name = "李四"
    phone = "13900139000"
    province = "浙江省"
    city = "杭州市"
    district = "西湖区"
    address_line = "文三路100号"


def cart_lines(*products_and_quantities):
    """Checkout lines [(product, qty, line_total)] from (product, qty) pairs."""
    return [(product, qty, product.price * qty) for product, qty in products_and_quantities]
