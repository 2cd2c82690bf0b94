"""Code shared by every Fileflow function; shipped as the `common` Lambda layer."""
