"""Authentication (Bearer API keys) and authorisation (the permission each route needs).

Checked keys are remembered for a few seconds (`ApiSettings.key_cache_seconds`), so that
a busy client does not cost a key lookup per request; revoking a key through this process
forgets it at once, other processes within that time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from threading import Lock
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from stockpool.api.problems import ApiProblem
from stockpool.domain.access import ApiKey, Permission, allows
from stockpool.services import access
from stockpool.services.context import Services

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made with `stockpool keys create`: `Authorization: Bearer sp_...`",
)
CHALLENGE = {"WWW-Authenticate": "Bearer"}


class KeyCache:
    """Keys checked recently, by the hash of the presented key."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._found: dict[str, tuple[ApiKey, float]] = {}
        self._lock = Lock()

    def get(self, digest: str) -> ApiKey | None:
        """A key checked less than `seconds` ago."""
        hit = self._found.get(digest)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, digest: str, key: ApiKey) -> None:
        """Remember a checked key."""
        with self._lock:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[digest] = (key, time.monotonic() + self.seconds)

    def forget(self, key_id: int) -> None:
        """Forget a key (it was revoked)."""
        with self._lock:
            self._found = {d: hit for d, hit in self._found.items() if hit[0].id != key_id}


def services_of(request: Request) -> Services:
    """The services the application was built with."""
    found: Services = request.app.state.services
    return found


def presented_key(request: Request) -> str | None:
    """The key in the Authorization header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def identified_from_cache(request: Request) -> bool:
    """Identify a request whose key is known without the database (no key, or a key checked
    recently); False when `identify` must look the key up (it blocks: run it in a thread)."""
    if hasattr(request.state, "api_key"):
        return True
    secret = presented_key(request)
    if secret is None:
        request.state.api_key = None
        return True
    cache: KeyCache = request.app.state.key_cache
    key = cache.get(access.hash_key(secret))
    if key is None:
        return False
    request.state.api_key = key
    return True


def identify(request: Request) -> ApiKey | None:
    """The working API key of a request (checked once per request), or None."""
    if hasattr(request.state, "api_key"):
        known: ApiKey | None = request.state.api_key
        return known
    secret = presented_key(request)
    key = None
    if secret is not None:
        cache: KeyCache = request.app.state.key_cache
        digest = access.hash_key(secret)
        key = cache.get(digest)
        if key is None:
            key = access.authenticate(services_of(request), secret)
            if key is not None:
                cache.put(digest, key)
    request.state.api_key = key
    return key


async def identify_soon(request: Request) -> ApiKey | None:
    """`identify` on the event loop when the key is known without the database; otherwise
    in a worker thread (the lookup blocks)."""
    if identified_from_cache(request):
        return identify(request)
    return await run_in_threadpool(identify, request)


def require(permission: Permission) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller's key, which must grant `permission` (else 401 / 403).

    It runs on the event loop, without a thread of its own, when the key is known already
    (checked recently, or by the write that is running); only a lookup goes to a thread.
    """

    async def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    ) -> ApiKey:
        key = await identify_soon(request)
        if key is None:
            raise ApiProblem(
                401,
                "unauthorized",
                "a valid API key is needed: Authorization: Bearer <key>",
                headers=CHALLENGE,
            )
        if not allows(key.role, permission):
            raise ApiProblem(
                403,
                "forbidden",
                f"a key with role {key.role.value!r} may not do this ({permission.value} needed)",
            )
        return key

    dependency.__name__ = f"require_{permission.value}"
    return dependency


Reader = Annotated[ApiKey, Depends(require(Permission.READ))]
Operator = Annotated[ApiKey, Depends(require(Permission.OPERATE))]
Admin = Annotated[ApiKey, Depends(require(Permission.ADMINISTER))]
Ingester = Annotated[ApiKey, Depends(require(Permission.INGEST_ORDERS))]
