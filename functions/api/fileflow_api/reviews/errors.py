"""The reviews capability's errors and their HTTP statuses (docs/reviews.md, "Errors")."""

from collections.abc import Mapping
from http import HTTPStatus

from fileflow_common.errors import FileflowError
from fileflow_common.reviews import InvalidChangesError


class ReviewNotFoundError(FileflowError):
    """No such review (a malformed id is the same)."""

    code = "ReviewNotFound"


class ReviewAlreadyDecidedError(FileflowError):
    """The review has its decision: a second one is refused."""

    code = "ReviewAlreadyDecided"


class ReviewExpiredError(FileflowError):
    """The workflow stopped waiting for this review (its timeout rule applied, or Step Functions answered
    TaskTimedOut): the decision came too late and changed nothing."""

    code = "ReviewExpired"


class ReviewTokenRejectedError(FileflowError):
    """Step Functions refused the review's task token (InvalidToken, TaskDoesNotExist): nothing waits."""

    code = "ReviewTokenRejected"


class InvalidDecisionError(FileflowError):
    """The decision's body does not fit the decision (changes on approve or reject, none on correct)."""

    code = "InvalidDecision"


ERROR_STATUS: Mapping[type[FileflowError], int] = {
    ReviewNotFoundError: HTTPStatus.NOT_FOUND,
    ReviewAlreadyDecidedError: HTTPStatus.CONFLICT,
    ReviewExpiredError: HTTPStatus.CONFLICT,
    ReviewTokenRejectedError: HTTPStatus.CONFLICT,
    InvalidDecisionError: HTTPStatus.UNPROCESSABLE_CONTENT,
    InvalidChangesError: HTTPStatus.UNPROCESSABLE_CONTENT,
}
