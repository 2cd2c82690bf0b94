"""The shared Tracer: the X-Ray SDK's recorder is imported only when tracing is on, and then it traces.

Each case is a new interpreter, as a Lambda execution environment is: the Tracer is built at import.
"""

from tests.support.fresh_interpreter import json_answer, run_python

PYTHONPATH = "functions/api:functions/common:functions/web"
# What Lambda sets for a sampled request (the facade segment the function's subsegments hang from).
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

# A handler decorated the way every function's is, answering one call.
CAPTURED_CALLS = """
from fileflow_common.observability import tracer

@tracer.capture_method
def work(value):
    return value + 1

@tracer.capture_lambda_handler
def handler(event, context):
    return work(event["value"])
"""

UNTRACED = f"""
import json, sys
import fileflow_api.handler
{CAPTURED_CALLS}
answer = handler({{"value": 1}}, None)
xray = sorted(name for name in sys.modules if name.startswith("aws_xray_sdk"))
print(json.dumps({{"answer": answer, "disabled": tracer.disabled, "xray_modules": xray}}))
"""

TRACED = f"""
import json
from aws_xray_sdk.core import xray_recorder
import fileflow_api.handler
{CAPTURED_CALLS}
sent = []

class CapturingEmitter:
    daemon_address = "127.0.0.1:2000"

    def set_daemon_address(self, address):
        pass

    def send_entity(self, entity):
        sent.append(entity.name)

xray_recorder.configure(emitter=CapturingEmitter())
answer = handler({{"value": 1}}, None)
print(json.dumps({{"answer": answer, "disabled": tracer.disabled, "sent": sent}}))
"""


def run(code: str, **environment: str) -> dict[str, object]:
    return json_answer(run_python(code, PYTHONPATH, POWERTOOLS_SERVICE_NAME="api", **environment))


def test_with_tracing_off_the_api_handler_never_imports_the_xray_recorder() -> None:
    # Given a Lambda environment with tracing off, as the stack configures the local cloud's functions
    # When the API handler's module is imported and a captured handler answers
    answer = run(UNTRACED, LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="true")
    # Then the decorators let the call through, and of the X-Ray SDK only its on/off switch was imported
    # (Powertools turns the SDK off through it); its recorder, patchers and emitter were not
    assert answer["answer"] == 2
    assert answer["disabled"] is True
    assert answer["xray_modules"] == ["aws_xray_sdk", "aws_xray_sdk.sdk_config"]


def test_outside_lambda_tracing_is_off_without_the_xray_recorder() -> None:
    # Given no Lambda environment and no switch (a developer's shell): Powertools' rule turns tracing off
    answer = run(UNTRACED)
    # Then the X-Ray recorder is not imported either
    assert answer["disabled"] is True
    assert "aws_xray_sdk.core" not in answer["xray_modules"]  # type: ignore[operator]


def test_with_tracing_on_the_handler_and_its_methods_are_traced() -> None:
    # Given a Lambda environment with tracing on (AWS: active tracing) and a sampled request
    # When the captured handler answers
    answer = run(
        TRACED, LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="false", _X_AMZN_TRACE_ID=TRACE_HEADER
    )
    # Then X-Ray received the method's and the handler's subsegments (streamed one by one)
    assert answer["answer"] == 2
    assert answer["disabled"] is False
    assert answer["sent"] == ["## __main__.work", "## handler"]
