"""Signing a person in: password (argon2id), then a TOTP code (RFC 6238), rate-limited.

The steps follow OWASP ASVS level 2 (V2 authentication, V3 sessions):

* one answer for an unknown staff id and a wrong password ("账号或密码错误"), so the
  form does not tell who has an account; the audit entry tells the privacy officer;
* ``max_failures`` wrong passwords or codes lock the account for ``lock_minutes``; an
  address trying more than ``per_address_per_minute`` times is slowed down whoever it
  tries (guessing across many accounts);
* a TOTP code is accepted once (its step is recorded) and within one step of now;
* the session token is replaced when the person is fully signed in (no fixation);
* the gateway is asked whether the person is an active member (``WhoAmI``) before the
  password is even checked against a disabled account — disabling someone in the
  registry stops their next sign-in, and their open sessions at their next request.

Every sign-in, failure and sign-out is an audit entry in the gateway's log
(``OfficeService.RecordSignIn``), naming the console and the person.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import threading
import time
from dataclasses import dataclass

import argon2
import pyotp

from hedui.console.accounts import Account, AccountStore, now
from hedui.console.config import ConsoleConfig

_HASHER = argon2.PasswordHasher()
#: the smallest password a person may choose (ASVS 2.1.1: at least 12 characters)
MIN_PASSWORD = 12
MAX_PASSWORD = 128
ISSUER = "hedui"


class SignInRefused(Exception):
    """A sign-in step failed; ``code`` goes into the audit entry, ``message`` on the page."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_problem(password: str, staff_id: str) -> str | None:
    """Why a new password is not acceptable, in Chinese; None when it is."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少{MIN_PASSWORD}个字符（可以用一句话）。"
    if len(password) > MAX_PASSWORD:
        return f"密码不能超过{MAX_PASSWORD}个字符。"
    lowered = password.lower()
    if staff_id.lower() in lowered or lowered in COMMON or len(set(password)) < 4:
        return "这个密码太容易被猜到，请换一个。"
    return None


#: passwords refused whatever their length (the most common ones of 12+ characters)
COMMON = frozenset({
    "123456789012", "1234567890123", "qwertyuiopas", "password1234", "passwordpassword",
    "aaaaaaaaaaaa", "111111111111", "000000000000", "abc123456789", "iloveyou1234",
    "woaini123456", "woainiwoaini", "a12345678910", "qwerty123456", "1q2w3e4r5t6y",
})


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, staff_id: str, center: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=staff_id, issuer_name=f"{ISSUER} {center}")


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def totp_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), else None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    at = time.time() if at is None else at
    step = int(at // totp.interval)
    for s in (step, step - 1, step + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(s), code):
            return s
    return None


class AddressLimiter:
    """At most ``per_minute`` attempts per client address in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque)
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        t = time.monotonic()
        with self._lock:
            seen = self._seen[address]
            while seen and seen[0] < t - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return False
            seen.append(t)
            return True


@dataclass
class SignIn:
    """The sign-in rules over one console's account store."""

    accounts: AccountStore
    config: ConsoleConfig

    def __post_init__(self) -> None:
        self.limiter = AddressLimiter(self.config.per_address_per_minute)

    def _locked(self, account: Account) -> dt.timedelta | None:
        if account.locked_until and account.locked_until > now():
            return account.locked_until - now()
        return None

    def check_password(self, staff_id: str, password: str, address: str) -> Account:
        """The account whose password this is; SignInRefused otherwise."""
        if not self.limiter.allow(address):
            raise SignInRefused("RATE_LIMITED", "尝试次数过多，请一分钟后再试。")
        account = self.accounts.account(staff_id)
        if account is None:
            _spend()  # as long as a known one takes
            raise SignInRefused("UNKNOWN_STAFF", "账号或密码错误。")
        wait = self._locked(account)
        if wait is not None:
            minutes = max(1, int(wait.total_seconds() // 60) + 1)
            raise SignInRefused("LOCKED", f"连续输错次数过多，账号已锁定，请{minutes}分钟后再试"
                                          "或联系管理员。")
        try:
            _HASHER.verify(account.password_hash, password)
        except argon2.exceptions.VerificationError:
            locked = self.accounts.failed(staff_id, max_failures=self.config.max_failures,
                                          lock=self.config.lock)
            raise SignInRefused("LOCKED" if locked else "BAD_PASSWORD",
                                "连续输错次数过多，账号已锁定。" if locked
                                else "账号或密码错误。") from None
        return account

    def check_code(self, account: Account, code: str, secret: str | None = None) -> None:
        """``code`` is the current TOTP of the account (or of ``secret`` being enrolled),
        not used before; SignInRefused otherwise (counting as a failure)."""
        secret = secret or account.totp_secret
        step = totp_step(secret, code) if secret else None
        if step is None or not self.accounts.use_totp_step(account.staff_id, step):
            locked = self.accounts.failed(account.staff_id,
                                          max_failures=self.config.max_failures,
                                          lock=self.config.lock)
            raise SignInRefused("LOCKED" if locked else "BAD_TOTP",
                                "连续输错次数过多，账号已锁定。" if locked
                                else "动态验证码不正确或已使用过，请等下一个验证码。")
        self.accounts.succeeded(account.staff_id)


_DUMMY = _HASHER.hash("not a password of anyone")


def _spend() -> None:
    """Verify against a dummy hash so an unknown staff id takes as long as a known one."""
    with contextlib.suppress(argon2.exceptions.VerificationError):
        _HASHER.verify(_DUMMY, "definitely wrong")
