import getpass

from .models import User

PASSWORD_MIN_LENGTH = 12
password_min_length = 12
MAX_TOKEN_AGE_SECONDS = 3600


def check_new_password(password: str, confirm: str) -> list[str]:
    errors = []
    if password != confirm:
        errors.append("passwords do not match")
    if password == confirm and len(password) < PASSWORD_MIN_LENGTH:
        errors.append(f"use at least {PASSWORD_MIN_LENGTH} characters")
    if password.lower() in {"password", "letmein"}:
        errors.append("too common")
    return errors


def change_password(user: User, form) -> None:
    password = form["password"]
    confirm = form["password_confirm"]
    if not check_new_password(password, confirm):
        user.set_password(password)
        user.save(update_fields=["password"])


def prompt() -> str:
    password = getpass.getpass("Password: ")
    api_token = input("API token: ").strip()
    return password or api_token
