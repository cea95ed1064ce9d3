"""
Django settings for mysite project.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = 'django-insecure-&4gi4v^9^vgvgtycd8v3k_gb31h*^6&^3*mdjga#en16n7r89s'

DEBUG = False

ALLOWED_HOSTS = ["mysite.internal", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "social_django",
    "shop",
]

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'mysite',
        'USER': 'mysite',
        'PASSWORD': '9tUDnpw~e+WDg2z*+U',
        'HOST': 'db.mysite.internal',
        'PORT': '5432',
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "403539428155-4lf35mm1ysw1pr5bux48py7oktth3mox.apps.googleusercontent.com"
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "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"

GOOGLE_MAPS_API_KEY = "AIza_INTUrJcYaizXTcYkTbwrM7u-gVLMjnIFst"

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
