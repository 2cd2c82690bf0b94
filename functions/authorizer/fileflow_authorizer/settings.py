from fileflow_common.token_config import TokenSettings


class AuthorizerSettings(TokenSettings):
    """Environment of the authorizer function (the token fields only), validated once per environment."""
