"""Mint JWTs for a deployed Fileflow stack: `make token USER=alice` prints one valid for an hour.

    python -m tools.token alice [--ttl 3600] [--audience fileflow-api] [--roles reviewer]

The signing key is read from the stack's secret (output SigningSecretArn) through Secrets Manager of
the target cloud: the local one, or AWS with FILEFLOW_TARGET=aws (your usual credentials). Only the
token goes to stdout (`TOKEN=$(make -s token USER=alice)`); its expiry goes to stderr.

`TokenFactory` is the importable side, used by the e2e tests: valid, expired, forged, wrong-issuer
and wrong-audience tokens for the same stack.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta

import boto3

from fileflow_common.clock import to_timestamp, utc_now
from fileflow_common.reviews import REVIEWER_ROLE
from fileflow_common.tokens import API_AUDIENCE, UPLOAD_AUDIENCE, TokenMinter, parse_roles
from infra import outputs as names
from tools.stack import StackOutputs, client_kwargs, load_outputs, stack_name

DEFAULT_TTL = timedelta(hours=1)


def signing_key(stack: StackOutputs) -> str:
    """The stack's HS256 key, read from its secret on the target cloud."""
    client = boto3.client("secretsmanager", **client_kwargs())
    return client.get_secret_value(SecretId=stack[names.SIGNING_SECRET_ARN])["SecretString"]


@dataclass(frozen=True)
class TokenFactory:
    """Tokens for one stack: the right ones, and each kind of wrong one the API must refuse."""

    issuer: str
    key: str

    @classmethod
    def for_stack(cls, stack: StackOutputs) -> TokenFactory:
        return cls(issuer=stack[names.TOKEN_ISSUER], key=signing_key(stack))

    def _minter(self, *, issuer: str | None = None, key: str | None = None) -> TokenMinter:
        signing = key or self.key
        return TokenMinter(issuer=issuer or self.issuer, signing_key=lambda: signing)

    def valid(
        self,
        user_id: str,
        *,
        audience: str = API_AUDIENCE,
        ttl: timedelta = DEFAULT_TTL,
        roles: tuple[str, ...] = (),
    ) -> str:
        """`roles`: the token's `roles` claim (e.g. `("reviewer",)` for the review queue)."""
        extra = {"roles": list(roles)} if roles else None
        return self._minter().mint(user_id, audience=audience, ttl=ttl, extra_claims=extra).token

    def reviewer(self, user_id: str, *, ttl: timedelta = DEFAULT_TTL) -> str:
        """A bearer token with the reviewer role (docs/reviews.md)."""
        return self.valid(user_id, ttl=ttl, roles=(REVIEWER_ROLE,))

    def upload(self, user_id: str, *, ttl: timedelta = DEFAULT_TTL) -> str:
        """A token scoped to uploads, like POST /v1/upload-tokens mints."""
        return self.valid(user_id, audience=UPLOAD_AUDIENCE, ttl=ttl)

    def expired(self, user_id: str) -> str:
        """Expired an hour ago: far beyond any leeway."""
        issued = utc_now() - timedelta(hours=2)
        return (
            self._minter()
            .mint(user_id, audience=API_AUDIENCE, ttl=timedelta(hours=1), issued_at=issued)
            .token
        )

    def forged(self, user_id: str) -> str:
        """Right claims, signed with a key that is not the stack's."""
        return (
            self._minter(key=secrets.token_urlsafe(48))
            .mint(user_id, audience=API_AUDIENCE, ttl=DEFAULT_TTL)
            .token
        )

    def wrong_issuer(self, user_id: str) -> str:
        """Signed with the stack's key, but claiming another issuer."""
        minter = self._minter(issuer=f"{self.issuer}-impostor")
        return minter.mint(user_id, audience=API_AUDIENCE, ttl=DEFAULT_TTL).token

    def wrong_audience(self, user_id: str) -> str:
        """Signed with the stack's key, for an audience that is not the API."""
        return self._minter().mint(user_id, audience="some-other-service", ttl=DEFAULT_TTL).token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("user", help="user id ([A-Za-z0-9_-]{1,64}), the token's subject")
    parser.add_argument(
        "--ttl", type=int, default=int(DEFAULT_TTL.total_seconds()), help="lifetime in seconds"
    )
    parser.add_argument(
        "--audience",
        default=API_AUDIENCE,
        help=f"{API_AUDIENCE} (bearer tokens, the default) or {UPLOAD_AUDIENCE} (upload tokens)",
    )
    parser.add_argument(
        "--roles", default="", help="comma-separated roles for the token's `roles` claim, e.g. reviewer"
    )
    args = parser.parse_args(argv)
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    try:
        roles = parse_roles(args.roles)
    except ValueError as exc:
        parser.error(f"--roles: {exc}")
    try:
        factory = TokenFactory.for_stack(load_outputs())
        token = factory.valid(args.user, audience=args.audience, ttl=timedelta(seconds=args.ttl), roles=roles)
    except Exception as exc:  # a CLI: say what went wrong in one line, no traceback
        print(f"tools/token.py: cannot mint a token for stack {stack_name()}: {exc}", file=sys.stderr)
        return 1
    expires = to_timestamp(utc_now() + timedelta(seconds=args.ttl))
    with_roles = f", roles {','.join(roles)}" if roles else ""
    print(f"token for {args.user!r} ({args.audience}{with_roles}), expires {expires}", file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
