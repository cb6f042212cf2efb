"""Tandem settings. Every value comes from the environment; see .env.example."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from helpdesk.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TANDEM_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-make-run-and-tests"
# Fernet keys of the secrets kept in the database (helpdesk/encryption.py): the first
# encrypts, every one decrypts. Without one, DEBUG runs (`make run`, `make test`, a fresh
# clone) use a key derived from SECRET_KEY; with DEBUG off, `manage.py check` says to set it.
ENCRYPTION_KEYS = env_list("TANDEM_ENCRYPTION_KEY")
if not ENCRYPTION_KEYS and DEBUG:
    _digest = hashlib.sha256(f"tandem-field-encryption:{SECRET_KEY}".encode()).digest()
    ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_digest).decode()]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # The Django admin, for superusers only (helpdesk/admin_site.py).
    "helpdesk.admin_site.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # The help center's sitemap.xml (kb/seo.py).
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI's files served from our own static files: a CDN is blocked by our CSP.
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    # Failed sign-ins, counted per identity and client address (helpdesk/signin.py).
    "axes",
    # Two-factor sign-in: TOTP devices and recovery codes (accounts/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "helpdesk",
    # The audit log: below the ticket core, which writes to it (audit/).
    "audit",
    # The ticket core first; the apps that plug into it register their receivers of
    # tickets.hooks in their ready(), in this order (figures before the workflow).
    "tickets",
    "tickets.mail",
    "metrics",
    "tickets.workflow",
    # Account health and topics (service/): after the workflow, whose rules it runs.
    "service",
    "kb",
    "portal",
    # Feedback items, who asked for them, the roadmap and the changelog (feedback/).
    "feedback",
    # How staff sign in: two-factor and single sign-on (accounts/).
    "accounts",
    # History import (manage.py import_tickets, POST /api/v1/import/).
    "importer",
    # The settings area: agents, teams, mailboxes, calendars, API tokens (console/).
    "console",
    # Customers' data exported and erased, ticket content past its retention (privacy/).
    "privacy",
    # Learned routing, similar solved tickets, suggested replies, optional drafts (assist/).
    "assist",
    # Outgoing webhooks: endpoints, the delivery outbox, the sender (webhooks/).
    "webhooks",
    # The help widget customers' websites embed: search, contact, a live conversation (widget/).
    "widget",
    # Tools, not features: `manage.py bench` and `manage.py seed_demo`.
    "bench",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Each per-process cache of setup rows asks Redis for its version once a request.
    "helpdesk.local_cache.versions_once_per_request",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's order): the browser's language
    # (the set_language cookie, then Accept-Language). Customers' pages then switch to
    # tickets.languages.customer_language (tickets.permissions.customer_required).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "helpdesk.middleware.reject_null_characters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(), then the second step of sign-in when it is due.
    "django_otp.middleware.OTPMiddleware",
    "accounts.gate.two_factor_gate",
    # A signed-in agent's own language (User.language), over the browser's.
    "helpdesk.middleware.agent_language",
    # Audit rows name the signed-in user and address of the request (audit/context.py).
    "audit.context.remember_request",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

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
                "django.template.context_processors.csp",
                "helpdesk.theme.theme",
                "console.branding.branding",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tandem")
# One connection per web or worker process, kept across requests (CONN_MAX_AGE) and
# checked before a request reuses it (CONN_HEALTH_CHECKS: a connection a PostgreSQL
# restart broke is replaced, not a 500). Under ASGI (helpdesk/asgi.py turns
# DATABASE_POOL on) each request's sync code runs in a thread of its own, and a connection
# kept per thread is a new one per request that stays open: with 25 agents on one uvicorn
# worker PostgreSQL held ~75 connections and refused the next (max_connections, 500s).
# There, each process keeps a psycopg pool instead (Django's "pool" option): a request
# takes a connection, checked, and gives it back at its end.
DATABASE_POOL = env_bool("DATABASE_POOL", False)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0 if DATABASE_POOL else 60)
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASE_POOL:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 8),
        # Seconds a request waits for a free connection before failing.
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
    }
# No JIT compilation: PostgreSQL compiles a query whose cost estimate passes
# jit_above_cost (100,000), which a search or inbox page of a million tickets can, and
# that costs 30-60 ms a page for statements that run in 2-40 ms. At 1M tickets: search
# p50/p95 97/152 ms with JIT, 33/45 without; the summary API 292/334 and 270/307
# (docs/benchmarks.md). DATABASE_JIT=1 turns it back on.
if not env_bool("DATABASE_JIT", False):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# Statements prepared on the server: only those helpdesk.postgres.Prepared runs, on its own
# cursors (Django's cursors bind on the client and never prepare). Django turns psycopg's
# preparing off (None) for poolers in transaction mode; a PgBouncer in front needs 1.21 or
# later with max_prepared_statements set (it keeps protocol-level prepared statements).
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "helpdesk.cache.SharedClientRedisCache",
        "LOCATION": REDIS_URL,
        # Redis is optional for reading and signing in (helpdesk/cache.py): a host that
        # is down must cost a page a moment, not a TCP timeout of minutes.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
    }
}

AUTH_USER_MODEL = "tickets.User"
# django-axes refuses a locked-out sign-in before any password is checked; the user is
# found by their normalised name or address (helpdesk/signin.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # helpdesk.signin.IdentityBackend, which agents may be barred from (accounts/backends.py).
    "accounts.backends.PasswordBackend",
    # Single sign-on for agents (accounts/oidc.py); does nothing unless configured.
    "accounts.oidc.AgentOIDCBackend",
]
AXES_HANDLER = "helpdesk.signin.SignInAttempts"
# 10 failures of one identity from one address: refused until 15 minutes have passed
# since the last failure.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
# The (identity, address) pair, then the address alone (counted at a fifth).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_CALLABLE = "helpdesk.signin.axes_identity"
AXES_CLIENT_IP_CALLABLE = "helpdesk.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "helpdesk.signin.locked_out"
AXES_RESET_ON_SUCCESS = True
# Successful sign-ins are not logged row by row (a table that would only grow).
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Two-factor sign-in (accounts/two_factor.py): the name authenticator apps show; the one
# limit on wrong codes is accounts.two_factor.WRONG_CODES, so django-otp's own is off.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Tandem")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Single sign-on for agents with OpenID Connect (accounts/oidc.py, mozilla-django-oidc):
# on when the client id and the provider's endpoints are set.
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_OP_ISSUER = env_str("OIDC_ISSUER")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile groups")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_AUTHENTICATE_CLASS = "accounts.oidc.SignInStart"
OIDC_CALLBACK_CLASS = "accounts.oidc.SignInCallback"
# Only addresses at these domains sign in (and get an agent account on the spot).
OIDC_ALLOWED_DOMAINS = env_list("OIDC_ALLOWED_DOMAINS")
# The `groups` claim's groups as team names: OIDC_GROUP_TEAMS="support-eu=Europe,vip=VIP".
OIDC_GROUP_TEAMS = dict(
    (group.strip(), team.strip())
    for group, _, team in (pair.partition("=") for pair in env_list("OIDC_GROUP_TEAMS"))
    if group.strip() and team.strip()
)
LOGIN_REDIRECT_URL_FAILURE = "login"
# Off: agents (not superusers) sign in only through single sign-on; the portal is unchanged.
AGENT_PASSWORD_SIGN_IN = env_bool("AGENT_PASSWORD_SIGN_IN", True)
# Signed-in requests read their session and user from Redis, the database being the
# record and the fallback when Redis is down (helpdesk/sessions.py; the user row through
# helpdesk.users.cached_user in helpdesk.signin.IdentityBackend.get_user).
SESSION_ENGINE = "helpdesk.sessions"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "tickets:inbox"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
# The languages of the customer-facing pages and mails (docs/i18n.md); dates and numbers
# follow the active language's formats (Django's locale formats).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Largest upload (attachments, inbound webhook, import) accepted, in bytes; above it 413.
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security: cookies and HSTS follow whether the site is served over HTTPS.
SECURE_SSL = env_bool("SECURE_SSL", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_SSL)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Trust X-Forwarded-Proto only behind a proxy that sets it (TRUST_PROXY_HEADERS=1): a
# client that reaches the web server directly could otherwise claim https.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_PROXY_HEADERS", False) else None
)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    # Email HTML may reference remote images; they stay blocked until an agent loads
    # them, and then only over https.
    "img-src": [CSP.SELF, "data:", "https:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Mail in: largest message IMAP, ingest_email and the webhook accept (bigger ones are
# quarantined; the webhook answers 413, so the sender's provider keeps and reports it),
# and how many new tickets one sender may
# open per hour before further mail from them is quarantined (0 turns the limit off).
MAIL_MAX_MESSAGE_BYTES = env_int("MAIL_MAX_MESSAGE_BYTES", 64 * 1024 * 1024)
MAIL_RATE_LIMIT_PER_HOUR = env_int("MAIL_RATE_LIMIT_PER_HOUR", 30)
# The authserv-ids our own receiving servers write in Authentication-Results (comma
# separated, e.g. "mx1.acme.test,mx2.acme.test"): the SPF, DKIM and DMARC verdict shown on
# a ticket is read from those headers only (tickets/mail/sender_auth.py). Empty: from the
# topmost Authentication-Results header only.
MAIL_AUTHSERV_IDS = env_list("MAIL_AUTHSERV_IDS")
# One worker polls an IMAP mailbox at a time, holding a lease in Redis of this many
# seconds that it renews at every step: a worker that dies mid-poll holds the mailbox
# up for at most this long (tickets/mail/imap.py).
MAIL_IMAP_LEASE_SECONDS = env_int("MAIL_IMAP_LEASE_SECONDS", 60)
# Mail loops: at most this many automatic answers (acknowledgements, rules' replies) to
# one customer, and on one ticket, within an hour (tickets/services/automatic.py).
MAIL_AUTO_REPLIES_PER_ADDRESS = env_int("MAIL_AUTO_REPLIES_PER_ADDRESS", 3)
MAIL_AUTO_REPLIES_PER_TICKET = env_int("MAIL_AUTO_REPLIES_PER_TICKET", 3)
# Mail in, safety limits checked before parsing (tickets/mail/limits.py): the parsers'
# cost grows faster than these inputs, so one hostile message could hold a worker for
# minutes and gigabytes. Over a limit, a message is quarantined with the limit's name.
# The defaults let every message of the shared corpus through (the largest: a 210 KB
# Subject of 3,302 encoded words) and cost the child at most a few seconds and a few
# hundred MB at the limit (tests/mail/test_hostile.py).
MAIL_MAX_HEADER_BYTES = env_int("MAIL_MAX_HEADER_BYTES", 512 * 1024)  # a header block
MAIL_MAX_HEADER_FIELD_BYTES = env_int("MAIL_MAX_HEADER_FIELD_BYTES", 256 * 1024)  # one header
# Per header block: the parser's memory grows with the square of their number.
MAIL_MAX_ENCODED_WORDS = env_int("MAIL_MAX_ENCODED_WORDS", 4000)
MAIL_MAX_HEADER_PARAMETERS = env_int("MAIL_MAX_HEADER_PARAMETERS", 100)  # per header
MAIL_MAX_PARTS = env_int("MAIL_MAX_PARTS", 1000)
MAIL_MAX_HTML_BYTES = env_int("MAIL_MAX_HTML_BYTES", 4 * 1024 * 1024)
MAIL_MAX_HTML_DEPTH = env_int("MAIL_MAX_HTML_DEPTH", 512)
# Parsing runs in a child process (tickets/mail/sandbox.py) that may grow by this much
# memory, and spend this much CPU time on one message, before it is stopped and the
# message is quarantined.
MAIL_PARSE_MEMORY_BYTES = env_int("MAIL_PARSE_MEMORY_BYTES", 512 * 1024 * 1024)
MAIL_PARSE_CPU_SECONDS = env_int("MAIL_PARSE_CPU_SECONDS", 10)
# Mail out: a send that fails for a passing reason is tried again after BASE seconds,
# doubling up to MAX seconds between tries, for GIVE_UP hours (then a person decides).
MAIL_SEND_RETRY_BASE_SECONDS = env_int("MAIL_SEND_RETRY_BASE_SECONDS", 30)
MAIL_SEND_RETRY_MAX_SECONDS = env_int("MAIL_SEND_RETRY_MAX_SECONDS", 900)
MAIL_SEND_GIVE_UP_HOURS = env_int("MAIL_SEND_GIVE_UP_HOURS", 120)

# Outgoing webhooks (webhooks/): loopback and private targets are refused unless this is
# set (tests, intranets); an endpoint failing without a success this long is turned off.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24)

# Celery: the queues and the beat schedule live in helpdesk/celery.py.
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Named, scoped tokens of the settings area ("tdm_..."); other keys are DRF's.
        "console.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers read the raw stream past Django's body limit; ours enforce it (413).
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.api.JSONParser",
        "helpdesk.api.FormParser",
        "helpdesk.api.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "helpdesk.api.BadCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Rate limits are counted in Redis (the cache), so they hold across web processes.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # drf-spectacular's schema, with each operation's error answers (helpdesk/api_schema.py).
    "DEFAULT_SCHEMA_CLASS": "helpdesk.api_schema.DocumentedErrorsSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/min",
        "user": "1200/min",
        "signin": "10/min",
        "import": "30/hour",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "Tickets, messages, customers, knowledge base and metrics.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models and serializers have a "kind" field with different choices.
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tickets.models.Kind",
        "MessageKindEnum": "tickets.api.serializers.MessageKind.choices",
    },
}

# Surveys (metrics/surveys.py): how long a survey link works, how often a customer may be
# asked for NPS, and how many NPS invitations one scheduled run sends at most.
SURVEY_LINK_MAX_AGE_DAYS = env_int("SURVEY_LINK_MAX_AGE_DAYS", 30)
NPS_THROTTLE_DAYS = env_int("NPS_THROTTLE_DAYS", 90)
# Account health (service/): changes to one account within this many seconds are
# measured once, this long after the first.
HEALTH_DEBOUNCE_SECONDS = env_int("HEALTH_DEBOUNCE_SECONDS", 60)
NPS_BATCH_SIZE = env_int("NPS_BATCH_SIZE", 500)
# Django 6.1 mailers (MAILERS replaces EMAIL_BACKEND and EMAIL_*): the default mailer
# sends agent notifications. Ticket mail goes out through each mailbox's own SMTP server
# (tickets/mail/outbound.py), falling back to this mailer when a mailbox has none.
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "127.0.0.1"),
    "port": env_int("EMAIL_PORT", 25),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    "timeout": env_int("EMAIL_TIMEOUT", 30),
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        # Only the SMTP backend takes these options (console/locmem/file take none).
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tandem <helpdesk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The audit log (audit/) is kept this many days, at least a year.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 400)
if AUDIT_RETENTION_DAYS < 365:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS}: the audit log is kept at least 365 days"
    )
# Privacy (privacy/retention.py): the content of tickets closed more than this many months
# ago is deleted (subjects, messages, attachments, raw mail); 0, the default, keeps it.
PRIVACY_RETENTION_MONTHS = env_int("PRIVACY_RETENTION_MONTHS", 0)
if PRIVACY_RETENTION_MONTHS < 0:
    raise ImproperlyConfigured("PRIVACY_RETENTION_MONTHS must be 0 (off) or a number of months")

# Feedback items (feedback/): the custom field of customers and organizations shown beside
# the people who asked (their plan); when no active field has this key, every choice field.
FEEDBACK_PLAN_FIELD = env_str("FEEDBACK_PLAN_FIELD", "plan")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-axes: each failed sign-in and lockout is a warning; no line per request.
        "axes": {"level": "WARNING"},
    },
}

# Assist (assist/): learned routing trains on at most this many of the newest solved
# tickets; the optional drafting model is any OpenAI-compatible endpoint (a local
# llama.cpp or vLLM server, or a hosted one), off while ASSIST_DRAFT_URL is empty.
ASSIST_TRAINING_LIMIT = env_int("ASSIST_TRAINING_LIMIT", 50_000)
ASSIST_DRAFT_URL = env_str("ASSIST_DRAFT_URL", "")
ASSIST_DRAFT_MODEL = env_str("ASSIST_DRAFT_MODEL", "local")
ASSIST_DRAFT_API_KEY = env_str("ASSIST_DRAFT_API_KEY", "")
ASSIST_DRAFT_TIMEOUT = env_int("ASSIST_DRAFT_TIMEOUT_SECONDS", 60)
