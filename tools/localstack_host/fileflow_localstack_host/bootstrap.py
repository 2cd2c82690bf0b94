"""The runtime inside one execution environment: a host process standing in for a Lambda sandbox.

Run by the interpreter matching the function's runtime as ``python -I -S -u bootstrap.py ...``:
isolated mode and no ``site``, so only the standard library, the function's code, its layers and
the runtime-provided packages (boto3) are importable, as on AWS. Standard library only, and
compatible with every supported Python 3 runtime.

Protocol (LocalStack's executor endpoint): POST ``/status/<id>/ready`` once initialised; answer
``POST /invoke`` at once, run the handler, then POST ``/invocations/<id>/response`` or ``/error``.
Before posting a result it writes an end-of-invocation marker to stdout, so the executor reading
its output knows which lines belong to the invocation.
"""

import argparse
import contextlib
import ctypes
import gc
import importlib
import json
import os
import queue
import selectors
import signal
import socket
import stat
import sys
import threading
import time
import traceback
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

END_MARKER = "\x1efileflow-invocation-end:{request_id}\x1e\n"
INIT_MARKER_ID = "template-init"  # templates.py reads init's output up to this id's end marker
MESSAGE_BYTES = 1 << 20
PR_SET_PDEATHSIG = 1


class LambdaContext:
    """The context object handlers receive (same attributes as AWS's)."""

    def __init__(self, request_id, invoked_function_arn, deadline_ms):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


def die_with_parent():
    """Linux: the kernel kills this process if LocalStack dies, so no environment is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def set_import_path(task_root, layer_dirs, runtime_dir, version):
    """sys.path as on AWS: code, layers (the later layer wins, as when unzipped over /opt),
    the standard library, then what the runtime ships."""
    layer_paths = []
    for layer in reversed(layer_dirs):
        layer_paths.append(os.path.join(layer, "python", "lib", "python" + version, "site-packages"))
        layer_paths.append(os.path.join(layer, "python"))
    stdlib = [p for p in sys.path if p]  # -I: neither the script's folder nor PYTHONPATH is there
    sys.path[:] = [task_root, *layer_paths, *stdlib] + ([runtime_dir] if runtime_dir else [])


def error_payload(error_type, message, tb=None):
    stack = traceback.format_list(traceback.extract_tb(tb)) if tb is not None else []
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack}


def log_error(error_type, message, tb=None, exc=None):
    """AWS's format: ``[ERROR] Type: message``, then the traceback ending with the exception."""
    lines = [f"[ERROR] {error_type}: {message}"]
    if tb is not None:
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in traceback.format_tb(tb))
    if exc is not None:
        lines.extend(line.rstrip("\n") for line in traceback.format_exception_only(type(exc), exc))
    print("\n".join(lines), flush=True)


def load_handler(handler_spec):
    """Returns (handler, None) or (None, error payload) like AWS's Runtime.* init faults."""
    module_name, _, function_name = handler_spec.rpartition(".")
    if not module_name or not function_name:
        message = f"Bad handler '{handler_spec}': not enough values to unpack (expected 2, got 1)"
        log_error("Runtime.MalformedHandlerName", message)
        return None, error_payload("Runtime.MalformedHandlerName", message)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        log_error("Runtime.ImportModuleError", message, exc.__traceback__, exc)
        return None, error_payload("Runtime.ImportModuleError", message)
    except SyntaxError as exc:
        message = f"Syntax error in module '{module_name}': {exc}"
        log_error("Runtime.UserCodeSyntaxError", message, exc.__traceback__, exc)
        return None, error_payload("Runtime.UserCodeSyntaxError", message)
    except Exception as exc:
        log_error(type(exc).__name__, str(exc), exc.__traceback__)
        return None, error_payload(type(exc).__name__, str(exc), exc.__traceback__)
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        log_error("Runtime.HandlerNotFound", message)
        return None, error_payload("Runtime.HandlerNotFound", message)
    return handler, None


def post(url, body):
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    request = urllib.request.Request(  # noqa: S310 - LocalStack on loopback
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        response.read()


def make_server(port, invocations):
    class InvokeHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/invoke":
                self.send_response(404)
                self.end_headers()
                return
            invocation = json.loads(body)
            # answered before the handler runs: a handler that ends the process cannot cut the answer off
            self.send_response(200)
            self.end_headers()
            invocations.put(invocation)

        def log_message(self, format, *args):
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), InvokeHandler)


def serve(port, handler, init_error):
    """Posts ready, then runs invocations one at a time for the life of the environment."""
    endpoint = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
    runtime_id = os.environ["LOCALSTACK_RUNTIME_ID"]
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))

    invocations = queue.Queue()
    server = make_server(port, invocations)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    post(f"{endpoint}/status/{runtime_id}/ready", {})

    while True:
        invocation = invocations.get()
        request_id = invocation["invoke-id"]
        os.environ["_X_AMZN_TRACE_ID"] = invocation.get("trace-id") or ""
        context = LambdaContext(
            request_id, invocation["invoked-function-arn"], time.time() * 1000 + timeout_s * 1000
        )
        if init_error is not None:
            log_error(init_error["errorType"], init_error["errorMessage"])
            outcome, result = "error", dict(init_error, requestId=request_id)
        else:
            try:
                response = handler(json.loads(invocation["payload"] or "null"), context)
            except Exception as exc:
                user_frames = exc.__traceback__.tb_next  # the runtime's own frame is not the user's business
                log_error(type(exc).__name__, str(exc), user_frames)
                outcome, result = "error", error_payload(type(exc).__name__, str(exc), user_frames)
            else:
                try:
                    outcome, result = "response", json.dumps(response).encode()
                except (TypeError, ValueError) as exc:
                    message = f"Unable to marshal response: {exc}"
                    log_error("Runtime.MarshalError", message)
                    outcome, result = "error", error_payload("Runtime.MarshalError", message)
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, END_MARKER.format(request_id=request_id).encode())
        post(f"{endpoint}/invocations/{request_id}/{outcome}", result)


# --- template mode: init once, then fork environments (see templates.py on the executor's side) ----
def send(control, message):
    control.send(json.dumps(message).encode())


def serve_as_template(control_fd):
    """Runs init, then forks one environment per request on `control_fd`, single-threaded."""
    control = socket.socket(fileno=control_fd)
    handler, init_error = load_handler(os.environ.get("_HANDLER", ""))
    sys.stdout.flush()
    if init_error is not None:
        send(control, {"op": "init_failed"})  # the executor spawns instead, which reports the error
        return
    os.write(1, END_MARKER.format(request_id=INIT_MARKER_ID).encode())
    gc.freeze()  # init's objects out of the collector's reach: collections in children do not copy them
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_write)  # a child's end wakes the select below
    send(control, {"op": "ready"})
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == wake_read:
                os.read(wake_read, 4096)
            else:
                data, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, 1)
                if not data:
                    return  # the executor let go of this template
                request = json.loads(data)
                reply = fork_environment(request, fds[0], handler, (control.fileno(), wake_read, wake_write))
                send(control, dict(reply, tag=request["tag"]))
            report_exits(control)


def report_exits(control):
    """Reaps ended environments and tells the executor their status as Popen gives it."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        send(control, {"op": "exited", "pid": pid, "status": os.waitstatus_to_exitcode(status)})


def fork_environment(request, output_fd, handler, template_fds):
    try:
        if threading.active_count() != 1:
            # a thread holding a lock at fork would leave it held forever in the child
            return {"op": "refused", "reason": f"{threading.active_count()} threads run in the template"}
        sys.stdout.flush()
        sys.stderr.flush()
        template_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = become_environment(request, output_fd, handler, template_fds, template_pid)
            finally:
                os._exit(code)
        return {"op": "forked", "pid": pid}
    finally:
        os.close(output_fd)  # the child's copy is its stdout now


def become_environment(request, output_fd, handler, template_fds, template_pid):
    """In the child: its own session, output and per-environment values; then serve as usual."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in template_fds:
        os.close(fd)
    os.setsid()  # a process group of its own: the executor's kill of the group reaches ffmpeg too
    die_with_parent()
    if os.getppid() != template_pid:
        return 1  # the template died before the death signal was armed
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    detach_inherited_sockets()
    os.environ.update(request["env"])
    if "tempfile" in sys.modules:
        sys.modules["tempfile"].tempdir = None  # TMPDIR is this environment's
    try:
        serve(request["port"], handler, None)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr, flush=True)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def detach_inherited_sockets():
    """Connections init opened (a boto3 pool's) belong to the template: the child gets dead ones.

    Each inherited socket's fd is replaced by a fresh unconnected socket, so a pool sees its
    connection dropped and opens its own, and never reads or writes the template's stream.
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd <= 2:
            continue
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            with socket.socket(fileno=os.dup(fd)) as inherited:
                family, kind = inherited.family, inherited.type
            with socket.socket(family, kind) as dead:
                os.dup2(dead.fileno(), fd)
        except OSError:
            continue


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--template-fd", type=int, default=-1)
    parser.add_argument("--task-root", required=True)
    parser.add_argument("--layer", action="append", default=[])
    parser.add_argument("--runtime-dir", default="")
    args = parser.parse_args()
    die_with_parent()
    version = "{}.{}".format(*sys.version_info[:2])
    set_import_path(args.task_root, args.layer, args.runtime_dir, version)
    os.chdir(args.task_root)
    if args.template_fd >= 0:
        serve_as_template(args.template_fd)
        return
    handler, init_error = load_handler(os.environ.get("_HANDLER", ""))
    serve(args.port, handler, init_error)


if __name__ == "__main__":
    main()
