"""Settings shared by every environment.

Everything lives here; ``local``, ``test`` and ``production`` only override. Every secret
and every service address comes from the environment (django-environ), and the defaults
need nothing installed: SQLite, an in-memory channel layer, eager Celery, console email
and media on the local disk.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    env.read_env(str(env_file))

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    # third party
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.apple",
    "allauth.mfa",
    "axes",
    "channels",
    "django_countries",
    "csp",
    # ours
    "marketplace",
    "accounts",
    "jobs",
    "proposals",
    "contracts",
    "payments",
    "messaging",
    "reviews",
    "community",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (django-csp) plus the websocket origin; see "security" below
    "marketplace.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.SuspendedUserMiddleware",
    # admin pages in the staff member's time zone (profile, else browser cookie, else UTC)
    "accounts.admin_timezone.AdminTimezoneMiddleware",
    "marketplace.middleware.ApplicationErrorMiddleware",
    # after ApplicationErrorMiddleware: sees permission errors first, logs them, rate-limits
    "marketplace.security.SecurityAuditMiddleware",
    "marketplace.ratelimit.RateLimitMiddleware",
    # axes last: it turns a lock-out into its response
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "marketplace.urls"
WSGI_APPLICATION = "marketplace.wsgi.application"
ASGI_APPLICATION = "marketplace.asgi.application"

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
                "marketplace.context_processors.site",
                "marketplace.context_processors.navigation",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------
# DATABASE_URL switches to PostgreSQL (postgres://user@host:5432/name); the default is a
# SQLite file so that `make run` needs nothing installed.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A new PostgreSQL connection costs ~6 ms here against ~0.1 ms per query on an open
    # one: keep connections open and check their health before reuse.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django's backend, with a health check that skips its round trip when the connection
    # is idle and its socket quiet (see marketplace/db/postgresql/base.py)
    DATABASES["default"]["ENGINE"] = "marketplace.db.postgresql"
    # ... which also runs the small per-request queries as server-side prepared statements;
    # off behind a pooler that hands a session's statements to other connections
    # (PgBouncer in transaction mode)
    DATABASES["default"]["PREPARE_STATEMENTS"] = env.bool("DB_PREPARE_STATEMENTS", default=True)
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

# --- redis, cache, channels, celery ---------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "marketplace.cache.RedisCache", "LOCATION": REDIS_URL}
    }  # Django's, faster
    # sessions read from Redis (and written through to the database, which stays the
    # record): a signed-in page does one query less
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="asgi")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Without a broker (a fresh machine) tasks run eagerly in the web process, so demo flows
# still do real work; with REDIS_URL they go to the worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    "matching-nightly-refresh": {"task": "jobs.refresh_all_matches", "schedule": crontab(hour=3, minute=0)},
    "invitations-expire": {"task": "jobs.expire_invitations", "schedule": crontab(minute=5)},
    "offers-expire": {"task": "contracts.expire_offers", "schedule": crontab(minute=7)},
    "saved-search-alerts": {"task": "jobs.send_saved_search_alerts", "schedule": crontab(minute="*/30")},
    "messaging-chat-digests": {"task": "messaging.send_chat_digests", "schedule": crontab(minute="*")},
    "messaging-purge-unsent-attachments": {
        "task": "messaging.purge_unsent_attachments",
        "schedule": crontab(minute=17),
    },
    # daily, so that a missed run catches up; grants at most once per freelancer and month
    "proposals-monthly-connects": {
        "task": "proposals.grant_monthly_connects",
        "schedule": crontab(hour=0, minute=20),
    },
    "payments-release-holds": {"task": "payments.release_matured_holds", "schedule": crontab(minute="*/15")},
    "payments-scheduled-payouts": {
        "task": "payments.run_scheduled_payouts",
        "schedule": crontab(hour=6, minute=0),
    },
    "payments-sweep-payouts": {"task": "payments.sweep_stuck_payouts", "schedule": crontab(minute="*/10")},
    "payments-sweep-charges": {"task": "payments.sweep_reserved_charges", "schedule": crontab(minute="*/5")},
    "payments-sweep-webhooks": {"task": "payments.sweep_webhook_events", "schedule": crontab(minute="*/10")},
    "payments-purge-idempotency": {
        "task": "payments.purge_idempotency_records",
        "schedule": crontab(hour=4, minute=30),
    },
    # service catalog orders: follow their milestones, cancel and refund after 48 h without requirements
    "jobs-sweep-service-orders": {"task": "jobs.sweep_service_orders", "schedule": crontab(minute="*/10")},
    # fixed-price escrow: reminders at 7 and 12 days, approval at AUTO_APPROVE_DAYS
    "contracts-auto-approve-milestones": {
        "task": "contracts.auto_approve_milestones",
        "schedule": crontab(minute=25),
    },
    # hourly billing: close and charge finished weeks (daily: Monday's run bills the week
    # just ended, the others catch up), retry failed payments daily, release weeks whose
    # review period (Friday 23:59:59 UTC of the following week) has passed
    "contracts-close-timesheets": {
        "task": "contracts.close_timesheets",
        "schedule": crontab(hour=0, minute=30),
    },
    "contracts-retry-timesheet-payments": {
        "task": "contracts.retry_timesheet_payments",
        "schedule": crontab(hour=12, minute=10),
    },
    "contracts-release-timesheets": {"task": "contracts.release_timesheets", "schedule": crontab(minute=40)},
    # disputes: an unanswered dispute past its response date is resolved for the opener
    "contracts-resolve-overdue-disputes": {
        "task": "contracts.resolve_overdue_disputes",
        "schedule": crontab(minute=35),
    },
    # reviews: ask both sides for feedback when a contract ends; reveal when the window closes
    "reviews-feedback-requests": {
        "task": "reviews.send_feedback_requests",
        "schedule": crontab(minute="*/15"),
    },
    "reviews-reveal-due": {"task": "reviews.reveal_due_reviews", "schedule": crontab(minute="*/15")},
    # reviews: Job Success Scores (a snapshot a day), badges and client stats; before the
    # nightly matching refresh, which ranks by them
    "reviews-refresh-reputation": {
        "task": "reviews.refresh_reputation",
        "schedule": crontab(hour=2, minute=30),
    },
    # events: reminders a day and an hour before (each once per registration)
    "community-event-reminders": {
        "task": "community.send_event_reminders",
        "schedule": crontab(minute="*/5"),
    },
}

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Marketplace] "
ACCOUNT_RATE_LIMITS = {
    "signup": env("RATE_LIMIT_SIGNUP", default="10/h/ip"),
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Marketplace"
SOCIALACCOUNT_PROVIDERS = {
    # Configured but optional: they appear only when keys are given in the environment.
    "google": {
        "APPS": [{"client_id": env("GOOGLE_CLIENT_ID"), "secret": env("GOOGLE_SECRET")}]
        if env("GOOGLE_CLIENT_ID", default="")
        else [],
        "SCOPE": ["profile", "email"],
    },
    "apple": {
        "APPS": [
            {
                "client_id": env("APPLE_CLIENT_ID"),
                "secret": env("APPLE_KEY_ID"),
                "key": env("APPLE_TEAM_ID"),
                "settings": {"certificate_key": env("APPLE_CERTIFICATE_KEY", default="")},
            }
        ]
        if env("APPLE_CLIENT_ID", default="")
        else [],
    },
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False

# django-axes: lock an account+IP pair after repeated failures, for a finite cool-off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
# allauth authenticates with email=...; the API token view with username=...
AXES_USERNAME_CALLABLE = "marketplace.net.login_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "marketplace.net.lockout_response"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "marketplace.net.client_ip"
# How many proxies of ours append to X-Forwarded-For (1 behind the compose nginx).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Chat attachments: never under MEDIA_ROOT, served only through views that check participation.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- email --------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marketplace <no-reply@marketplace.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
        "accounts.permissions.NotSuspended",
    ],
    "DEFAULT_SCHEMA_CLASS": "marketplace.schema.AutoSchema",  # + the error envelope's 4xx
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "marketplace.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min", "token": "20/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace API",
    "DESCRIPTION": "Jobs, profiles, proposals, contracts and payments of the marketplace.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "InvitationStatusEnum": "jobs.models.Invitation.Status",
        "DeclineReasonEnum": "jobs.models.Invitation.DeclineReason",
        "ProfileVisibilityEnum": "accounts.models.Visibility",
        "JobVisibilityEnum": "jobs.models.Job.Visibility",
        "JobStatusEnum": "jobs.models.Job.Status",
        "CloseReasonEnum": "jobs.models.Job.CloseReason",
        "FlagReasonEnum": "accounts.models.FlagReason",
        "DismissReasonEnum": "jobs.models.MatchDismissal.Reason",
        "MessageKindEnum": "messaging.models.Message.Kind",
        "NotificationKindEnum": "messaging.models.NotificationKind",
        "NotificationChannelEnum": "messaging.models.Channel",
        "ClientKindEnum": "accounts.models.ClientKind",
        "ChargeStatusEnum": "payments.models.Charge.Status",
        "PayoutStatusEnum": "payments.models.Payout.Status",
        "PayoutMethodStatusEnum": "payments.models.PayoutMethod.Status",
        "PayoutMethodKindEnum": "payments.models.PayoutMethod.Kind",
        "PayoutFrequencyEnum": "payments.models.PayoutSchedule.Frequency",
    },
}

# --- marketplace rules ----------------------------------------------------------------------
# Fees are basis points (1/100 of a percent); see payments/fees.py for the rounding rule.
FREELANCER_SERVICE_FEE_BPS = env.int("FREELANCER_SERVICE_FEE_BPS", default=1000)
CLIENT_MARKETPLACE_FEE_BPS = env.int("CLIENT_MARKETPLACE_FEE_BPS", default=500)
CURRENCY = "USD"
# Payments: "local" (in-process, test card numbers) or "stripe" (the real SDK; in tests it
# talks to tests/fakes/stripe_server.py through STRIPE_API_BASE).
PAYMENTS_GATEWAY = env("PAYMENTS_GATEWAY", default="local")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=30)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_CONNECT_COUNTRY = env("STRIPE_CONNECT_COUNTRY", default="US")
# Released earnings stay pending this long before they can be withdrawn.
SECURITY_HOLD_DAYS = env.int("SECURITY_HOLD_DAYS", default=5)
# A submitted milestone nobody reviews is approved this many days after submission,
# with reminders to the client on the days listed.
AUTO_APPROVE_DAYS = env.int("AUTO_APPROVE_DAYS", default=14)
AUTO_APPROVE_REMINDER_DAYS = (7, 12)
# Hourly: a week whose payment still fails this many days after it was billed pauses the contract.
HOURLY_PAYMENT_GRACE_DAYS = env.int("HOURLY_PAYMENT_GRACE_DAYS", default=3)
# reviews: days after a contract ends to leave feedback; days after the reveal to reply
REVIEW_WINDOW_DAYS = env.int("REVIEW_WINDOW_DAYS", default=14)
REVIEW_REPLY_DAYS = env.int("REVIEW_REPLY_DAYS", default=28)
PAYOUT_MIN_CENTS = env.int("PAYOUT_MIN_CENTS", default=1000)
# A new payout method receives nothing for this long (a stolen session cannot cash out).
NEW_PAYOUT_METHOD_DELAY_DAYS = env.int("NEW_PAYOUT_METHOD_DELAY_DAYS", default=3)
FREELANCER_MAX_SKILLS = 15
ASSESSMENT_RETAKE_DAYS = 30
PROFILE_PHOTO_MAX_BYTES = 5 * 1024 * 1024
PORTFOLIO_FILE_MAX_BYTES = 10 * 1024 * 1024
# Identity verification: the ID document (image or PDF) a user uploads for staff review.
IDENTITY_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Fraud signals on the staff dashboard (accounts/fraud.py). A signal lists a user when the
# figure reaches the threshold within the window.
# New accounts (younger than FRAUD_NEW_ACCOUNT_DAYS) that posted this many jobs.
FRAUD_NEW_ACCOUNT_DAYS = env.int("FRAUD_NEW_ACCOUNT_DAYS", default=7)
FRAUD_NEW_ACCOUNT_JOBS = env.int("FRAUD_NEW_ACCOUNT_JOBS", default=5)
# A freelancer sending this many proposals within any one minute (over the last day).
FRAUD_PROPOSALS_PER_MINUTE = env.int("FRAUD_PROPOSALS_PER_MINUTE", default=5)
FRAUD_PROPOSALS_WINDOW_HOURS = env.int("FRAUD_PROPOSALS_WINDOW_HOURS", default=24)
# Chat messages flagged as asking to pay or talk off the platform, per sender.
FRAUD_OFF_PLATFORM_MESSAGES = env.int("FRAUD_OFF_PLATFORM_MESSAGES", default=3)
FRAUD_OFF_PLATFORM_WINDOW_DAYS = env.int("FRAUD_OFF_PLATFORM_WINDOW_DAYS", default=30)
# Declined or failed card charges per payer.
FRAUD_PAYMENT_DECLINES = env.int("FRAUD_PAYMENT_DECLINES", default=3)
FRAUD_PAYMENT_DECLINES_WINDOW_DAYS = env.int("FRAUD_PAYMENT_DECLINES_WINDOW_DAYS", default=7)
# Accounts signed up from one IP address.
FRAUD_SIGNUPS_PER_IP = env.int("FRAUD_SIGNUPS_PER_IP", default=3)
FRAUD_SIGNUPS_PER_IP_WINDOW_DAYS = env.int("FRAUD_SIGNUPS_PER_IP_WINDOW_DAYS", default=30)
# Connects (application credits): a monthly grant that tops the balance up to the rollover cap,
# and the cost of a proposal by the job's size (answering an invitation is free).
CONNECTS_MONTHLY_GRANT = env.int("CONNECTS_MONTHLY_GRANT", default=10)
CONNECTS_ROLLOVER_CAP = env.int("CONNECTS_ROLLOVER_CAP", default=80)
CONNECTS_COST_BY_SIZE = {"small": 2, "medium": 4, "large": 6}
# Connects bought with a card: the price of one Connect and the packs on offer (no client fee).
CONNECTS_PRICE_CENTS = env.int("CONNECTS_PRICE_CENTS", default=15)
CONNECTS_PACKS = (10, 20, 40, 80)
# Community forums: posts (threads and replies) a member may write per 10 minutes, and the
# age below which an account's first posts with links wait for staff review.
COMMUNITY_POST_RATE = env.int("COMMUNITY_POST_RATE", default=5)
COMMUNITY_NEW_ACCOUNT_DAYS = env.int("COMMUNITY_NEW_ACCOUNT_DAYS", default=7)
COMMUNITY_NEW_ACCOUNT_HELD_POSTS = 3  # how many of a new account's first posts are checked
# Job search: each web process keeps an in-memory index of the listed jobs (jobs/search_index.py)
# and answers plain keyword/filter searches from it; off, or on SQLite, PostgreSQL answers all.
JOBS_SEARCH_INDEX = env.bool("JOBS_SEARCH_INDEX", default=True)
SITE_NAME = "Marketplace"
# Absolute links in emails (alerts, notifications).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- security -----------------------------------------------------------------------------
# Content-Security-Policy (django-csp). No inline scripts anywhere: every template loads its
# JavaScript from static/js with <script src>, data goes in data-* attributes or json_script.
# A template that truly needs an inline script uses nonce="{{ request.csp_nonce }}".
# Styles allow 'unsafe-inline': templates (ours, allauth's, the Django admin's) use style
# attributes, and htmx/Bootstrap set styles; style injection cannot run code.
# connect-src also gets ws(s)://<this host> per request for the chat websocket
# (marketplace.security.ContentSecurityPolicyMiddleware). The Django admin works under the
# same policy (its scripts are all external files); only /api/docs/ adds the Swagger UI CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        # https: lets Stripe Connect onboarding and the social logins redirect after a POST
        "form-action": ["'self'", "https:"],
    },
}
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net"
# Sent with every response (Django's SecurityMiddleware adds nosniff, Referrer-Policy, COOP).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# "Confirm your password" before changing email, password or payout methods: valid this long.
REAUTH_WINDOW_SECONDS = env.int("REAUTH_WINDOW_SECONDS", default=600)
ACCOUNT_REAUTHENTICATION_TIMEOUT = REAUTH_WINDOW_SECONDS
# Rate limits (marketplace/ratelimit.py): "<count>/<period>/<key>", several separated by
# commas; period s, m, h, d (optionally with a number: 15m); key ip or user (anonymous
# users fall back to their IP). Counted in the cache (Redis when REDIS_URL is set) per
# fixed window; over the limit the answer is 429 with Retry-After and a clear message.
# Which routes count against which scope is in marketplace/ratelimit.py (ROUTES).
RATE_LIMIT_ENABLED = env.bool("RATE_LIMIT_ENABLED", default=True)
RATE_LIMITS = {
    "login": env("RATE_LIMIT_LOGIN", default="20/m/ip,100/h/ip"),
    "signup": env("RATE_LIMIT_SIGNUP_IP", default="10/h/ip"),
    "password_reset": env("RATE_LIMIT_PASSWORD_RESET", default="5/h/ip"),
    "proposal": env("RATE_LIMIT_PROPOSAL", default="10/m/user,60/h/user"),
    "message": env("RATE_LIMIT_MESSAGE", default="30/m/user,600/h/user"),
    "money": env("RATE_LIMIT_MONEY", default="10/m/user,60/h/user"),
    # anonymous "Was this article helpful?" answers (signed-in users answer once per article)
    "help_feedback": env("RATE_LIMIT_HELP_FEEDBACK", default="20/h/ip"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # structured security events (marketplace/security.py): key=value, never secrets
        "marketplace.security": {"level": "INFO"},
    },
}
