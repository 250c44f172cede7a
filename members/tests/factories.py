"""factory_boy factories for membership tests (and the shop rows they need)."""
from decimal import Decimal

import factory
from django.utils import timezone

from members.models import Address, Coupon, CouponTemplate, Profile, Tier, User
from shop.models import Category, Order, OrderLine, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def onboarded(self, create, extracted, **kwargs):
        if create:
            self.save()
            Profile.objects.get_or_create(user=self)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类{n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"商品{n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    price = Decimal("100.00")
    stock = 100


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    user = factory.SubFactory(UserFactory)
    number = factory.Sequence(lambda n: f"T{n:08d}")
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    subtotal = Decimal("200.00")
    shipping_fee = Decimal("0.00")
    total = factory.LazyAttribute(lambda o: o.subtotal + o.shipping_fee)
    shipping_method = "standard"
    recipient_name = "张三"
    phone = "13800138000"
    province = "上海市"
    city = "上海市"
    district = "浦东新区"
    address_line = "世纪大道1号"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.LazyAttribute(lambda o: o.product.name)
    sku = factory.LazyAttribute(lambda o: o.product.sku)
    unit_price = factory.LazyAttribute(lambda o: o.product.price)
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


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
