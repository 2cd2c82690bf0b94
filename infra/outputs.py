"""Logical ids of the stack's outputs: the CDK app writes them, tests and tools read them.

Tests find every resource through these outputs, so the same tests run against LocalStack and AWS.
"""

from typing import Final

API_ID: Final = "ApiId"
API_STAGE: Final = "ApiStage"
API_URL: Final = "ApiUrl"
BUCKET_NAME: Final = "BucketName"
TABLE_NAME: Final = "TableName"
QUEUE_URL: Final = "QueueUrl"
DLQ_URL: Final = "DlqUrl"
API_FUNCTION_NAME: Final = "ApiFunctionName"
STARTER_FUNCTION_NAME: Final = "StarterFunctionName"
STATE_MACHINE_ARN: Final = "StateMachineArn"
# The stages of the workflow, in the order a file passes them (infra/constructs/pipeline/stages.py).
STAGE_NAMES: Final = (
    "detect",
    "image",
    "document",
    "archive",
    "video",
    "analysis",
    "finalize",
    "notify",
    "failure",
)
DASHBOARD_NAME: Final = "DashboardName"
# Tools and tests mint tokens with the key this secret holds (tools/token.py).
SIGNING_SECRET_ARN: Final = "SigningSecretArn"  # noqa: S105 - an output name, not a secret
TOKEN_ISSUER: Final = "TokenIssuer"  # noqa: S105 - an output name, not a secret
AUTHORIZER_FUNCTION_NAME: Final = "AuthorizerFunctionName"
# e2e invokes the sweeper directly instead of waiting for its schedule.
SWEEPER_FUNCTION_NAME: Final = "SweeperFunctionName"
# e2e invokes the lane's slot reclaimer directly instead of waiting for its schedule.
LANE_RECLAIMER_FUNCTION_NAME: Final = "LaneReclaimerFunctionName"
# The audit log's table (append-only for the API); e2e reads it to check what the API wrote.
AUDIT_TABLE_NAME: Final = "AuditTableName"
# Webhooks: producers queue events on the queue; e2e sends to it and reads the sender's logs.
WEBHOOK_QUEUE_URL: Final = "WebhookQueueUrl"
WEBHOOK_DLQ_URL: Final = "WebhookDlqUrl"
WEBHOOK_SENDER_FUNCTION_NAME: Final = "WebhookSenderFunctionName"


def stage_function_output(stage: str) -> str:
    """The output naming one stage's function, e.g. `ImageStageFunctionName`."""
    return f"{stage.capitalize()}StageFunctionName"


ALL: Final = (
    API_ID,
    API_STAGE,
    API_URL,
    BUCKET_NAME,
    TABLE_NAME,
    QUEUE_URL,
    DLQ_URL,
    API_FUNCTION_NAME,
    STARTER_FUNCTION_NAME,
    STATE_MACHINE_ARN,
    DASHBOARD_NAME,
    SIGNING_SECRET_ARN,
    TOKEN_ISSUER,
    AUTHORIZER_FUNCTION_NAME,
    SWEEPER_FUNCTION_NAME,
    LANE_RECLAIMER_FUNCTION_NAME,
    AUDIT_TABLE_NAME,
    WEBHOOK_QUEUE_URL,
    WEBHOOK_DLQ_URL,
    WEBHOOK_SENDER_FUNCTION_NAME,
    *(stage_function_output(stage) for stage in STAGE_NAMES),
)
