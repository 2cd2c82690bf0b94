"""The human review queue: `/v1/reviews/...` for users whose token carries the `reviewer` role
(docs/reviews.md).

The review items are written by the review stage (fileflow_stages.review) and shared through
fileflow_common.reviews; this capability lists and shows them, takes a reviewer's decision (it resumes
the waiting execution with SendTaskSuccess) and exports the decisions as feedback.
"""
