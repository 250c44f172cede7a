"""Deterministic demo data with the structure of real shopping, for the site, tests and benchmarks.

Members have two or three favourite categories and a hidden taste; products have long-tailed
(Zipf) popularity and a taste profile; some products are bought together. Events, orders and
reviews are drawn from that, so collaborative filtering has real signal to find.
The shop seeds only its own data (and the shoppers, through the user model); `demo.seeding` runs
these steps and the other apps' in order.
"""

import math
import random
import subprocess
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from shop.models import (
    Brand,
    Cart,
    Category,
    Event,
    Order,
    OrderLine,
    OrderStatusChange,
    Payment,
    Product,
    ProductImage,
    Review,
    Tag,
)

SIZES = {
    "small": {"products": 200, "members": 100, "events": 5_000, "orders": 500},
    "medium": {"products": 2_000, "members": 3_000, "events": 150_000, "orders": 20_000},
    "large": {"products": 5_000, "members": 10_000, "events": 1_000_000, "orders": 60_000},
}
BATCH = 2_000
TASTE_DIM = 6
DEMO_SHOPPER = ("demo@example.com", "demo12345")
MEMBER_PASSWORD = "member12345"
MEMBER_EMAIL = "member{:04d}@example.com"

# Top categories: (slug, name, colours, brands, children); children: (slug, name, nouns, price range).
CATALOGUE = [
    (
        "fashion",
        "服饰鞋包",
        ((228, 57, 60), (255, 150, 120)),
        ["云裳", "素朴", "织梦", "衣本", "北纬"],
        [
            ("women", "女装", ["连衣裙", "针织衫", "半身裙", "衬衫", "风衣"], (89, 599)),
            ("men", "男装", ["夹克", "卫衣", "休闲裤", "Polo衫", "羽绒服"], (79, 699)),
            ("shoes", "鞋靴", ["运动鞋", "皮鞋", "帆布鞋", "短靴", "凉鞋"], (99, 899)),
            ("bags", "箱包", ["双肩包", "托特包", "行李箱", "钱包", "斜挎包"], (59, 1299)),
        ],
    ),
    (
        "digital",
        "数码电器",
        ((37, 99, 235), (96, 165, 250)),
        ["星河", "极光", "联想家", "声派", "智享"],
        [
            ("phones", "手机", ["智能手机", "手机壳", "充电器", "数据线", "移动电源"], (19, 4999)),
            ("computers", "电脑办公", ["笔记本电脑", "机械键盘", "无线鼠标", "显示器", "打印机"], (49, 6999)),
            ("audio", "影音耳机", ["蓝牙耳机", "头戴耳机", "音箱", "麦克风", "播放器"], (59, 1999)),
            (
                "appliances",
                "智能家电",
                ["扫地机器人", "空气净化器", "电饭煲", "吹风机", "加湿器"],
                (99, 3999),
            ),
        ],
    ),
    (
        "beauty",
        "美妆个护",
        ((219, 39, 119), (249, 168, 212)),
        ["花间", "水漾", "悦肌", "清研", "兰蔻坊"],
        [
            ("skincare", "护肤", ["面霜", "精华液", "洁面乳", "爽肤水", "面膜"], (39, 699)),
            ("makeup", "彩妆", ["口红", "粉底液", "眼影盘", "睫毛膏", "腮红"], (29, 459)),
            ("bodycare", "洗护", ["洗发水", "沐浴露", "护手霜", "牙膏", "身体乳"], (9, 159)),
        ],
    ),
    (
        "food",
        "食品生鲜",
        ((234, 88, 12), (253, 186, 116)),
        ["田园记", "三只猫", "老街坊", "鲜丰", "茶语"],
        [
            ("snacks", "零食", ["坚果礼盒", "牛肉干", "薯片", "饼干", "果干"], (9, 199)),
            ("tea", "茶饮冲调", ["龙井茶", "普洱茶", "挂耳咖啡", "奶粉", "蜂蜜"], (19, 599)),
            ("pantry", "粮油调味", ["五常大米", "花生油", "生抽", "挂面", "香醋"], (9, 159)),
            ("fresh", "生鲜水果", ["车厘子", "猕猴桃", "大闸蟹", "牛排", "草莓"], (29, 499)),
        ],
    ),
    (
        "home",
        "家居生活",
        ((5, 150, 105), (110, 231, 183)),
        ["木语", "棉花田", "厨匠", "简居", "净美"],
        [
            ("bedding", "家纺", ["四件套", "羽绒被", "乳胶枕", "毛巾", "凉席"], (29, 1299)),
            ("kitchen", "厨具", ["炒锅", "刀具套装", "保温杯", "砧板", "餐具套装"], (19, 699)),
            ("storage", "收纳清洁", ["收纳箱", "拖把", "垃圾袋", "衣架", "洗衣液"], (9, 259)),
        ],
    ),
    (
        "sports",
        "运动户外",
        ((124, 58, 237), (196, 181, 253)),
        ["跃动", "山野", "力行", "风速", "极地"],
        [
            ("sportswear", "运动鞋服", ["跑步鞋", "速干T恤", "运动裤", "瑜伽服", "运动袜"], (39, 899)),
            ("fitness", "健身器材", ["瑜伽垫", "哑铃", "跳绳", "筋膜枪", "弹力带"], (19, 999)),
            ("outdoor", "户外装备", ["帐篷", "登山杖", "睡袋", "冲锋衣", "户外背包"], (49, 1599)),
        ],
    ),
]
CONSUMABLE_TOPS = {"food", "beauty"}
CATALOGUE_NAMES = {(top[0], kid[0]): kid[1] for top in CATALOGUE for kid in top[4]}
ADJECTIVES = [
    "简约",
    "经典",
    "轻奢",
    "时尚",
    "舒适",
    "加厚",
    "便携",
    "高端",
    "新款",
    "复古",
    "迷你",
    "升级款",
]
MATERIALS = {
    "fashion": ["纯棉", "真皮", "羊毛", "真丝", "亚麻", "牛仔", "羊绒"],
    "digital": ["铝合金", "碳纤维", "硅胶", "钢化玻璃", "工程塑料", "镁合金"],
    "beauty": ["天然", "植物", "玻尿酸", "氨基酸", "有机", "温和"],
    "food": ["有机", "天然", "手工", "特级", "原产地", "无添加"],
    "home": ["纯棉", "实木", "不锈钢", "竹纤维", "陶瓷", "全棉"],
    "sports": ["速干", "透气", "防水", "加厚", "轻量", "弹力"],
}
USES = ["日常通勤", "居家", "送礼", "旅行", "办公", "运动健身", "学生党", "户外露营"]
ORIGINS = ["浙江", "广东", "上海", "江苏", "福建", "山东", "四川", "云南", "北京", "日本", "德国", "意大利"]
TAGS = ["新品", "热卖", "包邮", "限时折扣", "国货", "进口", "环保", "礼品推荐", "店长推荐", "爆款"]
REVIEW_TEXT = {
    5: ["非常满意，质量超出预期！", "物流很快，包装完好，好评。", "第二次购买了，一如既往的好。"],
    4: ["整体不错，性价比高。", "挺好的，就是发货慢了一点。", "质量可以，值得购买。"],
    3: ["一般般，和描述差不多。", "凑合用吧，没有惊喜。", "中规中矩。"],
    2: ["有点失望，做工一般。", "和图片有差距。", "用了几次就有问题。"],
    1: ["质量很差，不推荐。", "完全不符合描述。", "非常失望。"],
}
QUANTUM = Decimal("0.01")


@dataclass
class SeedContext:
    """Everything the steps share: sizes, random sources, output, and what earlier steps made."""

    size: str
    seed: int
    stdout: object = None
    verbosity: int = 1
    progress: bool = False
    counts: dict = field(default_factory=dict)
    rng: random.Random = None
    np_rng: np.random.Generator = None
    now: object = None
    # filled by the steps
    categories: list = field(default_factory=list)  # child categories
    products: list = field(default_factory=list)
    product_category: np.ndarray = None  # child index per product
    popularity: np.ndarray = None
    item_taste: np.ndarray = None
    partner: np.ndarray = None
    members: list = field(default_factory=list)
    member_taste: np.ndarray = None
    member_favourites: list = field(default_factory=list)
    member_activity: np.ndarray = None
    purchases: list = field(default_factory=list)  # (member index, product index, order)

    def __post_init__(self):
        self.counts = dict(SIZES[self.size])
        self.rng = random.Random(self.seed)
        self.np_rng = np.random.default_rng(self.seed)
        # Fixed to the minute so that two runs with one seed make the same rows.
        self.now = timezone.now().replace(second=0, microsecond=0)

    def say(self, message):
        if self.stdout is not None and self.verbosity >= 1:
            self.stdout.write(message)

    def bar(self, iterable=None, **kwargs):
        return tqdm(iterable, disable=not self.progress, leave=False, **kwargs)


def _money(value) -> Decimal:
    return Decimal(str(value)).quantize(QUANTUM, rounding=ROUND_HALF_UP)


def _bulk(model, rows, ctx, label):
    created = []
    for start in ctx.bar(range(0, len(rows), BATCH), desc=label, unit="batch"):
        created.extend(model.objects.bulk_create(rows[start : start + BATCH]))
    return created


class _TimestampsAsGiven:
    """Let bulk_create keep the created_at values we set (auto_now_add would overwrite them)."""

    def __init__(self, *fields):
        self.fields = fields

    def __enter__(self):
        self.saved = [(f, f.auto_now_add, f.auto_now) for f in self.fields]
        for f in self.fields:
            f.auto_now_add = f.auto_now = False

    def __exit__(self, *exc):
        for f, auto_now_add, auto_now in self.saved:
            f.auto_now_add, f.auto_now = auto_now_add, auto_now


def _field(model, name):
    return model._meta.get_field(name)


# --- Images ----------------------------------------------------------------------------------


def _cjk_font_path():
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    paths = [line.split(":")[0].strip() for line in out.splitlines() if line.strip()]
    return paths[0] if paths else None


def _demo_image(path: Path, colours, variant: int, label: str, font):
    from PIL import Image, ImageDraw

    size = 400
    start, end = np.array(colours[0], float), np.array(colours[1], float)
    ramp = np.linspace(0, 1, size)[:, None] * 0.6 + np.linspace(0, 1, size)[None, :] * 0.4
    pixels = start[None, None, :] * (1 - ramp[..., None]) + end[None, None, :] * ramp[..., None]
    image = Image.fromarray(pixels.astype("uint8"), "RGB")
    draw = ImageDraw.Draw(image)
    white = (255, 255, 255)
    shape = variant % 4
    if shape == 0:
        draw.ellipse((110, 80, 290, 260), outline=white, width=10)
    elif shape == 1:
        draw.rounded_rectangle((115, 85, 285, 255), radius=30, outline=white, width=10)
    elif shape == 2:
        draw.polygon([(200, 70), (300, 255), (100, 255)], outline=white, width=10)
    else:
        draw.regular_polygon((200, 170, 95), 6, outline=white, width=10)
    bbox = draw.textbbox((0, 0), label, font=font)
    draw.text(((size - (bbox[2] - bbox[0])) / 2, 290), label, fill=white, font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=80, optimize=True)


def step_catalogue(ctx: SeedContext):
    """Categories, brands, tags, products with specs, and a few shared generated images each."""
    from PIL import ImageFont

    font_path = _cjk_font_path()
    font = ImageFont.truetype(font_path, 44) if font_path else ImageFont.load_default(size=44)
    rng, n_products = ctx.rng, ctx.counts["products"]
    tags = Tag.objects.bulk_create([Tag(name=name) for name in TAGS])
    brands, tops, children, child_info = {}, [], [], []
    for position, (slug, name, colours, brand_names, kids) in enumerate(CATALOGUE):
        top = Category.objects.create(name=name, slug=slug, position=position, description=f"{name}精选好物")
        tops.append(top)
        for brand_name in brand_names:
            brands[brand_name] = Brand.objects.create(name=brand_name, slug=f"{slug}-{len(brands)}")
        for kid_position, (kid_slug, kid_name, nouns, price_range) in enumerate(kids):
            child = Category.objects.create(
                parent=top, name=kid_name, slug=f"{slug}-{kid_slug}", position=kid_position
            )
            children.append(child)
            child_info.append((slug, colours, brand_names, nouns, price_range, kid_slug))
    ctx.categories = children

    # Images: four per child category, shared by its products (fast, and small on disk).
    media = Path(settings.MEDIA_ROOT)
    image_names = {}
    for index, (top_slug, colours, _b, _nouns, _p, kid_slug) in enumerate(ctx.bar(child_info, desc="images")):
        for variant in range(4):
            name = f"demo/{top_slug}-{kid_slug}-{variant}.jpg"
            # The category's name (its products share these images); Latin if no CJK font.
            label = CATALOGUE_NAMES[(top_slug, kid_slug)] if font_path else kid_slug[:10].upper()
            path = media / name
            if not path.exists():
                _demo_image(path, colours, variant, label, font)
            image_names[(index, variant)] = name

    # Category sizes vary; popularity is Zipf over a random order of all products.
    weights = ctx.np_rng.dirichlet(np.full(len(children), 4.0))
    product_category = ctx.np_rng.choice(len(children), size=n_products, p=weights)
    product_category[: len(children)] = np.arange(len(children))  # every category has products
    ranks = ctx.np_rng.permutation(n_products) + 1
    ctx.popularity = 1.0 / ranks**1.07
    ctx.item_taste = ctx.np_rng.normal(size=(n_products, TASTE_DIM))
    ctx.product_category = product_category

    created_span = 365 * 24 * 60
    products = []
    for i in ctx.bar(range(n_products), desc="products"):
        c = int(product_category[i])
        top_slug, _colours, brand_names, nouns, (low, high), _kid = child_info[c]
        brand = brand_names[rng.randrange(len(brand_names))]
        noun = nouns[rng.randrange(len(nouns))]
        adjective, material, use = rng.choice(ADJECTIVES), rng.choice(MATERIALS[top_slug]), rng.choice(USES)
        price = _money(math.exp(rng.uniform(math.log(low), math.log(high)))).quantize(Decimal("1")) - Decimal(
            "0.10"
        )
        price = max(price, Decimal("1.90"))
        list_price = (
            _money(price * Decimal(str(rng.choice([1.0, 1.1, 1.2, 1.3, 1.5]))))
            if rng.random() < 0.7
            else None
        )
        if list_price is not None and list_price <= price:
            list_price = None
        products.append(
            Product(
                category=children[c],
                brand=brands[brand],
                name=f"{brand} {adjective}{material}{noun} {rng.choice(['', '', 'Pro', 'Plus', 'Max', '2025款'])}".strip(),
                slug=f"p{i + 1:06d}",
                sku=f"SKU{ctx.seed % 1000:03d}{i + 1:06d}",
                price=price,
                list_price=list_price,
                stock=0 if rng.random() < 0.03 else rng.randint(1, 500),
                description=(
                    f"{brand}{noun}，{material}，{adjective}设计，适合{use}。"
                    f"产地{rng.choice(ORIGINS)}，{rng.choice(['品质保证', '做工精细', '经久耐用', '口碑之选'])}。"
                ),
                attributes={
                    "品牌": brand,
                    "特点": material,
                    "产地": rng.choice(ORIGINS),
                    "适用场景": use,
                    "规格": rng.choice(["标准款", "大号", "小号", "家庭装", "单件装"]),
                },
                is_consumable=top_slug in CONSUMABLE_TOPS,
                created_at=ctx.now - timedelta(minutes=rng.randrange(created_span)),
            )
        )
    with _TimestampsAsGiven(_field(Product, "created_at"), _field(Product, "updated_at")):
        for p in products:
            p.updated_at = p.created_at
        ctx.products = _bulk(Product, products, ctx, "products")

    images, tag_links = [], []
    Through = Product.tags.through
    for i, product in enumerate(ctx.products):
        c = int(product_category[i])
        images.append(ProductImage(product=product, image=image_names[(c, i % 4)], alt=product.name))
        for tag in rng.sample(tags, rng.choice([0, 1, 1, 2])):
            tag_links.append(Through(product_id=product.pk, tag_id=tag.pk))
    _bulk(ProductImage, images, ctx, "images")
    _bulk(Through, tag_links, ctx, "tags")

    # Bought together: each product's partner is another product of the same top category.
    by_top = {}
    for i, c in enumerate(product_category):
        by_top.setdefault(child_info[int(c)][0], []).append(i)
    ctx.partner = np.array(
        [rng.choice(by_top[child_info[int(product_category[i])][0]]) for i in range(n_products)]
    )
    ctx.say(f"  {len(children) + len(tops)} categories, {len(brands)} brands, {len(ctx.products)} products")


def step_members(ctx: SeedContext):
    """Members (one precomputed password hash for all), each with favourite categories and a taste."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    n = ctx.counts["members"]
    password = make_password(MEMBER_PASSWORD)
    demo, _created = User.objects.get_or_create(email=DEMO_SHOPPER[0], defaults={"username": DEMO_SHOPPER[0]})
    demo.set_password(DEMO_SHOPPER[1])
    demo.save()
    joined_span = 400 * 24 * 60
    rows = [
        User(
            email=MEMBER_EMAIL.format(i + 1),
            username=MEMBER_EMAIL.format(i + 1),
            password=password,
            date_joined=ctx.now - timedelta(minutes=ctx.rng.randrange(joined_span)),
        )
        for i in range(n - 1)
    ]
    members = [demo] + _bulk(User, rows, ctx, "members")
    EmailAddress.objects.filter(user=demo).delete()
    _bulk(
        EmailAddress,
        [EmailAddress(user=m, email=m.email, verified=True, primary=True) for m in members],
        ctx,
        "emails",
    )
    ctx.members = members
    ctx.member_taste = ctx.np_rng.normal(size=(n, TASTE_DIM))
    n_categories = len(ctx.categories)
    ctx.member_favourites = [
        ctx.np_rng.choice(n_categories, size=int(ctx.np_rng.integers(2, 4)), replace=False) for _ in range(n)
    ]
    ctx.member_activity = ctx.np_rng.lognormal(0.0, 0.9, size=n)
    ctx.member_activity[0] = max(ctx.member_activity[0], 2.0)  # the demo shopper has a history
    ctx.say(f"  {len(members)} members")


def _member_sampler(ctx: SeedContext):
    """For member m: (product indices, probabilities): favourites weighted by popularity × taste."""
    by_category = {}
    for i, c in enumerate(ctx.product_category):
        by_category.setdefault(int(c), []).append(i)
    by_category = {c: np.array(ix) for c, ix in by_category.items()}
    global_p = ctx.popularity / ctx.popularity.sum()
    cache = {}

    def sampler(m):
        if m not in cache:
            candidates = np.concatenate([by_category[int(c)] for c in ctx.member_favourites[m]])
            affinity = ctx.item_taste[candidates] @ ctx.member_taste[m] / math.sqrt(TASTE_DIM)
            weights = ctx.popularity[candidates] ** 0.6 * np.exp(1.5 * affinity)
            cache[m] = (candidates, weights / weights.sum())
        return cache[m]

    def draw(m, k):
        """k product indices for member m: 88% from their favourites, the rest from everything."""
        candidates, p = sampler(m)
        from_favourites = ctx.np_rng.random(k) < 0.88
        picks = np.empty(k, dtype=int)
        n_fav = int(from_favourites.sum())
        if n_fav:
            picks[from_favourites] = ctx.np_rng.choice(candidates, size=n_fav, p=p)
        if k - n_fav:
            picks[~from_favourites] = ctx.np_rng.choice(len(global_p), size=k - n_fav, p=global_p)
        return picks

    return draw


def _spread(total, weights, rng):
    return rng.multinomial(total, weights / weights.sum())


def step_orders(ctx: SeedContext):
    """Orders over the last 12 months, mostly completed; lines from favourites and bought-together pairs."""
    draw = _member_sampler(ctx)
    rules = settings.SHOP_SHIPPING_METHODS
    per_member = _spread(ctx.counts["orders"], ctx.member_activity**0.8, ctx.np_rng)
    statuses = [
        Order.Status.COMPLETED,
        Order.Status.SHIPPED,
        Order.Status.PAID,
        Order.Status.CANCELLED,
        Order.Status.REFUNDED,
    ]
    status_weights = [0.82, 0.05, 0.04, 0.06, 0.03]
    span = 365 * 24 * 60
    orders, order_lines, order_members = [], [], []
    number = 0
    for m in ctx.bar(range(len(ctx.members)), desc="orders"):
        k = int(per_member[m])
        if not k:
            continue
        firsts = draw(m, k)
        for j in range(k):
            number += 1
            first = int(firsts[j])
            picks = [first]
            if ctx.rng.random() < 0.4:
                picks.append(int(ctx.partner[first]))
            if ctx.rng.random() < 0.25:
                picks.append(int(draw(m, 1)[0]))
            picks = list(dict.fromkeys(picks))
            created = ctx.now - timedelta(minutes=ctx.rng.randrange(60, span))
            status = ctx.rng.choices(statuses, status_weights)[0]
            if number % 97 == 0:  # a few recent unpaid orders
                status, created = (
                    Order.Status.PENDING_PAYMENT,
                    ctx.now - timedelta(minutes=ctx.rng.randrange(1, 25)),
                )
            lines, subtotal = [], Decimal("0.00")
            for p in picks:
                product = ctx.products[p]
                quantity = ctx.rng.choice([1, 1, 2, 3]) if product.is_consumable else 1
                total = product.price * quantity
                subtotal += total
                lines.append((p, quantity, total))
            method = "standard" if ctx.rng.random() < 0.85 else "express"
            rule = rules[method]
            fee = (
                Decimal("0.00")
                if rule.get("free_over") and subtotal >= Decimal(rule["free_over"])
                else Decimal(rule["fee"])
            )
            order = Order(
                number=f"D{ctx.seed % 100:02d}{number:09d}",
                user=ctx.members[m],
                status=status,
                idempotency_key=f"demo-{ctx.seed}-{number}",
                subtotal=subtotal,
                shipping_fee=fee,
                total=subtotal + fee,
                shipping_method=method,
                recipient_name=f"会员{m + 1}",
                phone=f"138{ctx.rng.randrange(10**8):08d}",
                province=ctx.rng.choice(ORIGINS[:9]),
                city="市辖区",
                district="",
                address_line=f"幸福路 {ctx.rng.randint(1, 999)} 号",
                postcode=f"{ctx.rng.randint(100000, 899999)}",
                created_at=created,
            )
            if status not in (Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED):
                order.paid_at = created + timedelta(minutes=ctx.rng.randint(1, 20))
            if status in (Order.Status.SHIPPED, Order.Status.COMPLETED, Order.Status.REFUNDED):
                order.shipped_at = order.paid_at + timedelta(hours=ctx.rng.randint(4, 48))
            if status in (Order.Status.COMPLETED, Order.Status.REFUNDED):
                order.completed_at = order.shipped_at + timedelta(days=ctx.rng.randint(2, 6))
            if status == Order.Status.REFUNDED:
                order.refunded_at = order.completed_at + timedelta(days=ctx.rng.randint(1, 5))
            if status == Order.Status.CANCELLED:
                order.cancelled_at = created + timedelta(minutes=30)
            orders.append(order)
            order_lines.append(lines)
            order_members.append(m)
    with _TimestampsAsGiven(_field(Order, "created_at")):
        orders = _bulk(Order, orders, ctx, "orders")
    rows, changes, payments = [], [], []
    for order, lines, m in zip(orders, order_lines, order_members):
        for p, quantity, total in lines:
            product = ctx.products[p]
            rows.append(
                OrderLine(
                    order=order,
                    product=product,
                    product_name=product.name,
                    sku=product.sku,
                    unit_price=product.price,
                    quantity=quantity,
                    line_total=total,
                )
            )
            if order.status in (Order.Status.PAID, Order.Status.SHIPPED, Order.Status.COMPLETED):
                ctx.purchases.append((m, p, order, quantity))
        changes.append(
            OrderStatusChange(
                order=order, from_status="", to_status=order.status, note="demo", created_at=order.created_at
            )
        )
        if order.paid_at:
            payments.append(
                Payment(
                    order=order,
                    reference=f"DEMO{order.number}",
                    amount=order.total,
                    status=(
                        Payment.Status.REFUNDED
                        if order.status == Order.Status.REFUNDED
                        else Payment.Status.SUCCEEDED
                    ),
                )
            )
    _bulk(OrderLine, rows, ctx, "order lines")
    with _TimestampsAsGiven(_field(OrderStatusChange, "created_at")):
        _bulk(OrderStatusChange, changes, ctx, "status changes")
    _bulk(Payment, payments, ctx, "payments")
    ctx.say(f"  {len(orders)} orders, {len(rows)} order lines")


def step_reviews(ctx: SeedContext):
    """Reviews by buyers (one per member and product), rating following their taste for the product."""
    seen, reviews, events = set(), [], []
    for m, p, order, _quantity in ctx.purchases:
        if order.status != Order.Status.COMPLETED or (m, p) in seen or ctx.rng.random() > 0.3:
            continue
        seen.add((m, p))
        affinity = float(ctx.item_taste[p] @ ctx.member_taste[m]) / math.sqrt(TASTE_DIM)
        rating = int(min(5, max(1, round(3.9 + 1.3 * math.tanh(affinity) + ctx.rng.gauss(0, 0.6)))))
        created = order.completed_at + timedelta(hours=ctx.rng.randint(2, 240))
        created = min(created, ctx.now)
        reviews.append(
            Review(
                product=ctx.products[p],
                user=ctx.members[m],
                rating=rating,
                title=ctx.rng.choice(["", "好评", "值得买", "说说感受"]) if rating >= 4 else "",
                body=ctx.rng.choice(REVIEW_TEXT[rating]),
                created_at=created,
            )
        )
        events.append(
            Event(
                user=ctx.members[m],
                product=ctx.products[p],
                kind=Event.Kind.RATING,
                value=rating,
                created_at=created,
            )
        )
    with _TimestampsAsGiven(_field(Review, "created_at")):
        _bulk(Review, reviews, ctx, "reviews")
    _bulk(Event, events, ctx, "rating events")
    ctx.say(f"  {len(reviews)} reviews")


def step_events(ctx: SeedContext):
    """Browsing events (views mostly, cart adds, favourites, searches) plus one purchase event per line."""
    draw = _member_sampler(ctx)
    purchase_events = [
        Event(
            user=ctx.members[m],
            product=ctx.products[p],
            kind=Event.Kind.PURCHASE,
            value=q,
            context={"order": order.number},
            created_at=order.paid_at,
        )
        for m, p, order, q in ctx.purchases
    ]
    browse_total = max(0, ctx.counts["events"] - len(purchase_events))
    per_member = _spread(browse_total, ctx.member_activity, ctx.np_rng)
    kinds = [
        Event.Kind.VIEW,
        Event.Kind.CART_ADD,
        Event.Kind.FAVOURITE,
        Event.Kind.CART_REMOVE,
        Event.Kind.SEARCH,
    ]
    kind_p = np.array([0.78, 0.11, 0.04, 0.03, 0.04])
    span = 365 * 24 * 3600
    _bulk(Event, purchase_events, ctx, "purchase events")
    buffer, made = [], len(purchase_events)
    for m in ctx.bar(range(len(ctx.members)), desc="events"):
        k = int(per_member[m])
        if not k:
            continue
        picks = draw(m, k)
        member_kinds = ctx.np_rng.choice(len(kinds), size=k, p=kind_p)
        offsets = ctx.np_rng.integers(0, span, size=k)
        member = ctx.members[m]
        anonymous = ctx.rng.random() < 0.05  # some browsing happened before they logged in
        session_key = f"demo{ctx.seed}m{m}" if anonymous else ""
        for j in range(k):
            kind = kinds[int(member_kinds[j])]
            product = ctx.products[int(picks[j])]
            when = ctx.now - timedelta(seconds=int(offsets[j]))
            if kind == Event.Kind.SEARCH:
                word = product.name.split()[-1][-3:] if product.name else ""
                buffer.append(
                    Event(user=member, kind=kind, query=word, created_at=when, context={"page": "search"})
                )
            else:
                buffer.append(
                    Event(
                        user=None if anonymous else member,
                        session_key=session_key,
                        product=product,
                        kind=kind,
                        value=1 if kind in (Event.Kind.CART_ADD, Event.Kind.CART_REMOVE) else None,
                        created_at=when,
                    )
                )
        if len(buffer) >= 20_000:
            Event.objects.bulk_create(buffer, batch_size=BATCH)
            made += len(buffer)
            buffer = []
    Event.objects.bulk_create(buffer, batch_size=BATCH)
    made += len(buffer)
    ctx.say(f"  {made} behaviour events")


def step_product_totals(ctx: SeedContext):
    """The denormalised sales and rating columns, from the orders and reviews just made."""
    n = len(ctx.products)
    sales = np.zeros(n, dtype=int)
    for _m, p, _order, quantity in ctx.purchases:
        sales[p] += quantity
    index = {product.pk: i for i, product in enumerate(ctx.products)}
    rating_sum, rating_count = np.zeros(n), np.zeros(n, dtype=int)
    for product_id, rating in Review.objects.filter(status=Review.Status.APPROVED).values_list(
        "product_id", "rating"
    ):
        if product_id in index:
            rating_sum[index[product_id]] += rating
            rating_count[index[product_id]] += 1
    for i, product in enumerate(ctx.products):
        product.sales_count = int(sales[i])
        product.rating_count = int(rating_count[i])
        product.rating_avg = _money(rating_sum[i] / rating_count[i]) if rating_count[i] else Decimal("0.00")
    for start in ctx.bar(range(0, n, 500), desc="totals"):
        Product.objects.bulk_update(
            ctx.products[start : start + 500], ["sales_count", "rating_count", "rating_avg"]
        )


SEED_STEPS = [step_catalogue, step_members, step_orders, step_reviews, step_events, step_product_totals]


def demo_has_data() -> bool:
    return Product.objects.exists()


def shop_demo_reset():
    """Delete the shop's data and the generated shoppers (keeps other accounts).

    Rows of other apps that protect orders (points ledger, coupon redemptions) go first: the caller
    (demo.seeding) resets those apps before this.
    """
    User = get_user_model()
    with transaction.atomic():
        Event.objects.all().delete()
        Review.objects.all().delete()
        Cart.objects.all().delete()
        Order.objects.all().delete()
        ProductImage.objects.all().delete()
        Product.objects.all().delete()
        Category.objects.filter(parent__isnull=False).delete()
        Category.objects.all().delete()
        Brand.objects.all().delete()
        Tag.objects.all().delete()
        User.objects.filter(email__regex=r"^member[0-9]{4,}@example\.com$").delete()
        User.objects.filter(email=DEMO_SHOPPER[0]).delete()


def shop_caches_forget():
    """Forget the cached navigation and category tree once new categories are in."""
    from shop.selectors import catalogue_caches_forget

    catalogue_caches_forget()
