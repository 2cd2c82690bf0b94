"""The alarms that say Fileflow is unhealthy, each with an action: the alarm topic (SNS), which mails the
address in context `alarm_email` when one is set (docs/runbooks/ says what to do for each)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class AlarmTopic(Construct):
    """An encrypted, TLS-only topic CloudWatch may publish to; the operator's email subscribed to it."""

    def __init__(self, scope: Construct, construct_id: str, *, email: str | None) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(self, "Key", enable_key_rotation=True, description="Encrypts the alarm topic")
        # CloudWatch publishes to an encrypted topic only with a key that lets it (AWS's SNS key does not).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self, "Topic", display_name="Fileflow alarms", master_key=self.key, enforce_ssl=True
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.action = actions.SnsAction(self.topic)


class Alarms(Construct):
    """Each alarm goes to the topic when it fires and when it is OK again."""

    def __init__(self, scope: Construct, construct_id: str, *, topic: AlarmTopic) -> None:
        super().__init__(scope, construct_id)
        self._topic = topic
        self.all: list[cloudwatch.Alarm] = []

    def at_least(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
        periods: int = 1,
    ) -> cloudwatch.Alarm:
        """Alarm once `periods` periods reach `threshold`; no data (idle) is healthy."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._topic.action)
        alarm.add_ok_action(self._topic.action)
        self.all.append(alarm)
        return alarm


# How old the processing queue's oldest message may get before someone should look (files are waiting).
OLDEST_MESSAGE_AGE = Duration.minutes(5)
