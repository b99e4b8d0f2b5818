"""Optional OpenID Connect sign-in with a force's own identity provider (Authlib).

The provider proves who the user is; what they may see still comes from the local account
the chosen claim names (its force and role), so an account must exist and be enabled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

__all__ = ["OidcSettings", "OidcSignIn"]


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    # The ID-token claim that names the local account.
    username_claim: str = "preferred_username"
    # Where the provider sends the user back; None: this app's own /sign-in/oidc/callback.
    redirect_uri: str | None = None

    def __repr__(self) -> str:  # never show the client secret
        return f"OidcSettings(issuer={self.issuer!r}, client_id={self.client_id!r})"


class OidcSignIn:
    def __init__(self, settings: OidcSettings) -> None:
        # Imported only when OpenID Connect is configured; Authlib's notice about its httpx
        # module is not ours to print on every command.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from authlib.integrations.starlette_client import OAuth, OAuthError
        self.refusals: tuple[type[Exception], ...] = (OAuthError, ValueError, KeyError)
        self.settings = settings
        oauth = OAuth()
        self.client: Any = oauth.register(
            "force",
            server_metadata_url=settings.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
        )

    def redirect_uri(self, request: Request) -> str:
        return self.settings.redirect_uri or str(request.base_url) + "sign-in/oidc/callback"

    async def start(self, request: Request) -> Any:
        return await self.client.authorize_redirect(request, self.redirect_uri(request))

    async def username(self, request: Request) -> str | None:
        """The account name the provider vouches for (ID token signature, issuer, audience
        and nonce checked by Authlib); None when the claim is missing or the provider's
        answer does not check out."""
        try:
            return await self._username(request)
        except self.refusals:
            return None

    async def _username(self, request: Request) -> str | None:
        token = await self.client.authorize_access_token(request)
        claims = token.get("userinfo") or {}
        if self.settings.username_claim not in claims:
            # Providers may keep profile claims out of the ID token and serve them from the
            # userinfo endpoint, for the subject the ID token names.
            extra = await self.client.userinfo(token=token)
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
        value = claims.get(self.settings.username_claim)
        return value if isinstance(value, str) and value else None
