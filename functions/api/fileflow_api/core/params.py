"""Route parameters every capability shares: the authenticated caller and the cursor of a page."""

from typing import Annotated

from fastapi import Depends, Query

from fileflow_api.auth.identity import User, current_user
from fileflow_api.core.cursors import MAX_CURSOR_LENGTH

Caller = Annotated[User, Depends(current_user)]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
]
