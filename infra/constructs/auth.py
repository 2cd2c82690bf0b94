"""Authentication: the token signing secret and the API Gateway Lambda authorizer (TOKEN type).

Cognito is not in LocalStack community, so nothing here depends on it: the authorizer verifies JWTs
itself (HS256 with the signing secret; RS256/ES256 of an external identity provider through its JWKS
when the `jwks_url`, `jwks_issuer` and `jwks_audience` context values are set).

LocalStack community can neither create `AWS::ApiGateway::Authorizer` through CloudFormation (it
marks it deployed "as a fallback", and then PutMethod refuses its id: "Invalid authorizer ID
specified") nor invoke Lambda authorizers. So the template attaches the authorizer under a
condition that only LocalStack's default account (000000000000, never an AWS account) makes false;
there the API function verifies the bearer token itself (fileflow_api.auth.identity), as it does wherever
no authorizer ran. One template for both clouds.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.cloud import on_local_cloud
from infra.constructs.lambda_function import PythonFunction
from infra.constructs.layers import Layers
from infra.context import TokenContext
from infra.nag import acknowledge

SIGNING_SECRET_LENGTH = 64
# API Gateway caches the authorizer's policy per token for this long.
AUTHORIZER_CACHE_TTL = Duration.minutes(5)
# API Gateway answers 401 without invoking the authorizer when the header does not look like this.
BEARER_HEADER_PATTERN = r"^[Bb]earer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$"
# LocalStack's default account id; AWS never issues it.


class Auth(Construct):
    """The HS256 signing secret, the authorizer function and its TokenAuthorizer."""

    def __init__(self, scope: Construct, construct_id: str, *, layers: Layers, tokens: TokenContext) -> None:
        super().__init__(scope, construct_id)
        self.signing_secret = secretsmanager.Secret(
            self,
            "SigningSecret",
            description="Fileflow: HS256 key that signs and verifies Fileflow's own JWTs",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=SIGNING_SECRET_LENGTH, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.signing_secret,
            "AwsSolutions-SMG4",
            "The signing key is rotated by hand (docs/auth.md): a rotation invalidates every outstanding "
            "token at once, so it is an operator's decision, not a schedule.",
        )
        # What every function that checks tokens reads (fileflow_common.token_config.TokenSettings).
        self.token_environment = {
            "TOKEN_SECRET_ARN": self.signing_secret.secret_arn,
            "TOKEN_ISSUER": tokens.issuer,
            **(
                {
                    "JWKS_URL": tokens.jwks_url,
                    "JWKS_ISSUER": tokens.jwks_issuer,
                    "JWKS_AUDIENCE": tokens.jwks_audience,
                }
                if tokens.jwks_url and tokens.jwks_issuer and tokens.jwks_audience
                else {}
            ),
        }
        self.issuer = tokens.issuer
        # What a function checking tokens needs beyond the runtime layer: cryptography only when an identity
        # provider signs them (RS256/ES256). PyJWT imports it whenever it is there; HS256 goes without.
        with_identity_provider = bool(tokens.jwks_url and tokens.jwks_issuer and tokens.jwks_audience)
        self.token_layers: list[lambda_.ILayerVersion] = [layers.crypto] if with_identity_provider else []

        self.authorizer_function = PythonFunction(
            self,
            "AuthorizerFunction",
            source_dir="authorizer",
            handler="fileflow_authorizer.handler.lambda_handler",
            service_name="authorizer",
            description="Fileflow API Gateway authorizer: verifies the caller's bearer JWT",
            memory_size=256,
            timeout=Duration.seconds(10),
            layers=[layers.runtime, *self.token_layers, layers.common],
            environment=self.token_environment,
        )
        self.signing_secret.grant_read(self.authorizer_function.function)

        self.authorizer = apigw.TokenAuthorizer(
            self,
            "TokenAuthorizer",
            handler=self.authorizer_function.function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=BEARER_HEADER_PATTERN,
            results_cache_ttl=AUTHORIZER_CACHE_TTL,
        )
        self.on_local_cloud = on_local_cloud(self)

    def add_authorized_method(
        self, resource: apigw.IResource, http_method: str, integration: apigw.Integration
    ) -> apigw.Method:
        """A method behind the TOKEN authorizer on AWS (without one on the local cloud: see above)."""
        method = resource.add_method(
            http_method,
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.CUSTOM,
        )
        cfn_method = method.node.default_child
        assert isinstance(cfn_method, apigw.CfnMethod)
        condition = self.on_local_cloud.logical_id
        cfn_method.add_property_override(
            "AuthorizationType",
            Fn.condition_if(
                condition, apigw.AuthorizationType.NONE.value, apigw.AuthorizationType.CUSTOM.value
            ),
        )
        cfn_method.add_property_override(
            "AuthorizerId", Fn.condition_if(condition, Aws.NO_VALUE, self.authorizer.authorizer_id)
        )
        return method
