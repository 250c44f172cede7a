"""factory_boy factories for the shop (and for anyone who needs members, products or orders)."""

import io
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from PIL import Image

from members.models import User
from shop.models import (
    Brand,
    Cart,
    CartItem,
    Category,
    Event,
    Order,
    OrderLine,
    Product,
    ProductImage,
    Review,
    Tag,
)


def image_bytes(color=(228, 57, 60), size=(40, 40), image_format="JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, image_format)
    return buffer.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    """A member with a verified primary email (allauth) and password "pass12345"."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.test")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.django.Password("pass12345")

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类{n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"品牌{n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"标签{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"测试商品{n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU{n:06d}")
    price = Decimal("49.90")
    list_price = Decimal("69.90")
    stock = 20
    description = "一件用于测试的商品。"
    attributes = factory.LazyFunction(lambda: {"材质": "棉", "产地": "浙江"})


class ProductImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.LazyFunction(lambda: ContentFile(image_bytes(), name="test.jpg"))
    alt = "test"


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    user = factory.SubFactory(UserFactory)


class CartItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartItem

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.product.price)


class OrderFactory(factory.django.DjangoModelFactory):
    """An order (status as given, default paid) with no lines; add OrderLineFactory rows."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"T{n:010d}")
    user = factory.SubFactory(UserFactory)
    status = Order.Status.PAID
    idempotency_key = factory.Sequence(lambda n: f"test-key-{n}")
    subtotal = Decimal("49.90")
    total = Decimal("49.90")
    shipping_method = "standard"
    recipient_name = "张三"
    phone = "13800138000"
    province = "浙江省"
    city = "杭州市"
    address_line = "西湖区文三路 1 号"


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


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    rating = 5
    title = "很好"
    body = "质量不错。"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    user = factory.SubFactory(UserFactory)
    product = factory.SubFactory(ProductFactory)
    kind = Event.Kind.VIEW


def bought(user, product, status=Order.Status.COMPLETED, quantity=1):
    """An order of `user` containing `product` in the given state (for review eligibility etc.)."""
    line = OrderLineFactory(order__user=user, order__status=status, product=product, quantity=quantity)
    return line.order
