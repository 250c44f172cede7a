"""Settings shared by every environment; everything that differs comes from the environment."""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, not a CDN
    "django_filters",
    "django_prometheus",
    "shop",
    "members",
    "recommender",
    "notifications",
    "demo",
    "auditlog",  # last: it registers the models named in AUDITLOG_INCLUDE_TRACKING_MODELS
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.TrustedProxyMiddleware",  # first: everything below sees the client's address
    "config.middleware.RequestIdMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",  # records the staff member behind each audited change
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "shop.context_processors.storefront",
                "notifications.context_processors.unread_messages",
            ],
            # The admin home's figures (config/dashboard.py): a library outside any app.
            "libraries": {"shop_dashboard": "config.dashboard"},
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a task writes; the timeout rides out short write locks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "shop:home"

# django-allauth 65.x: email is the login, verified before first use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "confirm_email": "1/3m/key",
}
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_USER_DISPLAY = "members.models.member_display"  # User.__str__ is a member number, for staff screens

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
CURRENCY = "CNY"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Redis when REDIS_URL is set (broker, cache, allauth's rate limits); otherwise in-process.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",  # a Redis outage must not fail pages
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
# Sessions read from the cache, written through to the database (a Redis outage loses none of them).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Guests' whole pages (config.pagecache) and members' shared fragments live this long at most; a change
# of what they show retires them at once (shop.cache_keys). 0 turns whole-page caching off.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 7200}
CELERY_BEAT_SCHEDULE = {
    "recommender-nightly-retrain": {
        "task": "recommender.tasks.retrain_nightly",
        "schedule": crontab(hour=3, minute=0),
    },
    "shop-cancel-unpaid-orders": {
        "task": "shop.tasks.cancel_unpaid_orders",
        "schedule": crontab(minute="*/5"),
    },
    "shop-confirm-receipt-due": {
        "task": "shop.tasks.confirm_receipt_due",
        "schedule": crontab(minute=15),
    },
    "shop-complete-orders-due": {
        "task": "shop.tasks.complete_orders_due",
        "schedule": crontab(minute=25),
    },
    "members-points-expire": {"task": "members.tasks.points_expire", "schedule": crontab(hour=1, minute=10)},
    "members-points-release": {"task": "members.tasks.points_release", "schedule": crontab(minute=20)},
    "members-tiers-recompute": {
        "task": "members.tasks.tiers_recompute",
        "schedule": crontab(hour=1, minute=40),
    },
    "members-birthday-coupons": {
        "task": "members.tasks.birthday_coupons",
        "schedule": crontab(hour=8, minute=0),
    },
}

# Recommender: runs kept, quality gate, lock lease, shards and where trained models are stored.
RECOMMENDER_KEEP_RUNS = env.int("RECOMMENDER_KEEP_RUNS", default=5)
RECOMMENDER_GATE_MAX_DROP = env.float("RECOMMENDER_GATE_MAX_DROP", default=0.2)  # relative p@10 drop
# The run lock's lease (s): renewed by a heartbeat while a run works, so a killed worker frees it soon.
RECOMMENDER_LOCK_TTL = env.int("RECOMMENDER_LOCK_TTL", default=120)
RECOMMENDER_SHARDS = env.int("RECOMMENDER_SHARDS", default=4)
# Most items of one category in a block of 12 recommendations (0 turns the variety re-rank off).
RECOMMENDER_CATEGORY_CAP = env.int("RECOMMENDER_CATEGORY_CAP", default=4)
# A profile segment list is shown only when it aggregates at least this many members.
RECOMMENDER_SEGMENT_MIN_MEMBERS = env.int("RECOMMENDER_SEGMENT_MIN_MEMBERS", default=20)
RECOMMENDER_ARTIFACT_DIR = env.path("RECOMMENDER_ARTIFACT_DIR", default=VAR_DIR / "recommender")

# Audit trail of staff changes (django-auditlog): the models and what each entry keeps (members.audit).
from members.audit import AUDITLOG_INCLUDE_TRACKING_MODELS as AUDITLOG_INCLUDE_TRACKING_MODELS  # noqa: E402, I001

AUDITLOG_MASK_CALLABLE = "members.audit.audit_mask"  # personal values are never stored in the trail

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="优选商城 <no-reply@shop.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Notifications: the shop's name in every message (never the host name), the public address links
# in e-mails point to, the SMS backend, webhook delivery limits and the daily expiry reminders.
SHOP_NAME = env("SHOP_NAME", default="优选商城")
SHOP_SITE_URL = env("SHOP_SITE_URL", default="http://127.0.0.1:8000")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SHOP_NAME}] "  # allauth's default is "[<host name>] "
NOTIFICATIONS_SMS_BACKEND = env("NOTIFICATIONS_SMS_BACKEND", default="notifications.sms.ConsoleSmsBackend")
WEBHOOKS_TIMEOUT = env.int("WEBHOOKS_TIMEOUT", default=10)
WEBHOOKS_MAX_RETRIES = env.int("WEBHOOKS_MAX_RETRIES", default=8)
WEBHOOKS_RETRY_BASE_SECONDS = env.int("WEBHOOKS_RETRY_BASE_SECONDS", default=30)
WEBHOOKS_RETRY_MAX_SECONDS = env.int("WEBHOOKS_RETRY_MAX_SECONDS", default=6 * 3600)
CELERY_BEAT_SCHEDULE["notifications-points-expiring"] = {
    "task": "notifications.tasks.points_expiring_remind",
    "schedule": crontab(hour=9, minute=0),
}
CELERY_BEAT_SCHEDULE["notifications-coupons-expiring"] = {
    "task": "notifications.tasks.coupons_expiring_remind",
    "schedule": crontab(hour=9, minute=10),
}

# Payments: which providers the pay page offers, and each real provider's keys (docs/PAYMENTS.md).
# Unset, only the sandbox runs, so a fresh clone needs no keys.
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=["sandbox"])
# The public origin the providers call back (notify_url, return_url); empty = the request's own host.
PAYMENT_PUBLIC_ORIGIN = env("PAYMENT_PUBLIC_ORIGIN", default="")
PAYMENT_TIMEOUT_SECONDS = env.int("PAYMENT_TIMEOUT_SECONDS", default=15)
ALIPAY_APP_ID = env("ALIPAY_APP_ID", default="")
ALIPAY_PRIVATE_KEY_PATH = env("ALIPAY_PRIVATE_KEY_PATH", default="")
ALIPAY_PUBLIC_KEY_PATH = env("ALIPAY_PUBLIC_KEY_PATH", default="")
ALIPAY_GATEWAY = env("ALIPAY_GATEWAY", default="https://openapi.alipay.com/gateway.do")
WECHATPAY_MCHID = env("WECHATPAY_MCHID", default="")
WECHATPAY_APPID = env("WECHATPAY_APPID", default="")
WECHATPAY_PRIVATE_KEY_PATH = env("WECHATPAY_PRIVATE_KEY_PATH", default="")
WECHATPAY_CERT_SERIAL = env("WECHATPAY_CERT_SERIAL", default="")
WECHATPAY_APIV3_KEY = env("WECHATPAY_APIV3_KEY", default="")
# The platform's key: either its certificates (a folder of .pem files) or its public key and that key's id.
WECHATPAY_PLATFORM_CERT_DIR = env("WECHATPAY_PLATFORM_CERT_DIR", default="")
WECHATPAY_PLATFORM_PUBLIC_KEY_PATH = env("WECHATPAY_PLATFORM_PUBLIC_KEY_PATH", default="")
WECHATPAY_PLATFORM_PUBLIC_KEY_ID = env("WECHATPAY_PLATFORM_PUBLIC_KEY_ID", default="")
WECHATPAY_GATEWAY = env("WECHATPAY_GATEWAY", default="https://api.mch.weixin.qq.com")
# A notify older than this (by its own signed timestamp) is refused as a replay from outside the window.
WECHATPAY_NOTIFY_MAX_AGE_SECONDS = env.int("WECHATPAY_NOTIFY_MAX_AGE_SECONDS", default=300)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "config.api_errors.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": "120/min",
        "user": "600/min",
        "events": "120/min",
        "auth_token": "10/min",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Catalogue, cart, orders, membership and recommendations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ClientEventKindEnum": "shop.api.serializers.CLIENT_EVENT_KIND_CHOICES",
        "CouponKindEnum": "members.models.CouponTemplate.Kind",
        "AfterSaleKindEnum": "shop.models.AfterSale.Kind",
    },
}

# LOG_FORMAT=json (production's default): one JSON object a line; every line carries the request id.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.observability.ShopJsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per request with its id, status and duration; off unless asked (gunicorn logs access).
        "shop.request": {"level": env("REQUEST_LOG_LEVEL", default="WARNING")},
    },
}

# Behind a proxy: the addresses (or networks) whose X-Forwarded-For is believed. Empty: no proxy, the
# header is ignored. config.middleware.TrustedProxyMiddleware then puts the client's address in
# REMOTE_ADDR, so allauth's and DRF's limits are counted per client, never per proxy.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
ALLAUTH_TRUSTED_PROXY_COUNT = 0  # allauth would trust X-Forwarded-For from any peer; REMOTE_ADDR is right
REST_FRAMEWORK["NUM_PROXIES"] = 0  # DRF: REMOTE_ADDR, never a client-sent X-Forwarded-For

# Operations: readiness (/readyz), metrics (/metrics, from this machine or with the token), Sentry.
READINESS_MAX_RUN_AGE_HOURS = env.int("READINESS_MAX_RUN_AGE_HOURS", default=48)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False
DEMO_STAFF_LOGIN = env.bool("DEMO_STAFF_LOGIN", default=True)  # seed_demo's admin@example.com
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        release=env("SENTRY_RELEASE", default=None),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,  # members' personal data stays here (PIPL)
    )

# Content Security Policy sent by config.middleware: everything from our own origin, nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Shop rules that operators tune without a deploy.
SHOP_SHIPPING_METHODS = {
    "standard": {"label": _("标准快递"), "fee": "10.00", "free_over": "99.00"},
    "express": {"label": _("顺丰次日达"), "fee": "22.00", "free_over": None},
}
SHOP_LOW_STOCK = 5
# Reviews wait for staff before they show (and an edited one is read again) when this is on.
SHOP_REVIEWS_PREMODERATED = env.bool("SHOP_REVIEWS_PREMODERATED", default=False)
# Shipped orders count as received after this many days (确认收货 by the beat task).
SHOP_AUTO_CONFIRM_DAYS = env.int("SHOP_AUTO_CONFIRM_DAYS", default=10)
# Returns are accepted this many days after receipt (七天无理由); then the order completes.
SHOP_RETURN_WINDOW_DAYS = env.int("SHOP_RETURN_WINDOW_DAYS", default=7)
SHOP_DISCOUNT_POLICY = (
    "members.services.checkout_hooks.MemberDiscountPolicy"  # coupons and points at checkout
)

# The language cookie follows the session cookie's rules (issue 12): SameSite always, Secure in production.
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = False  # the switcher is a plain form; nothing reads it from JavaScript either way
