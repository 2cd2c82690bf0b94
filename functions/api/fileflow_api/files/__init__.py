"""Files: listing, search, detail, downloads, tags and deletion (`/v1/files`), over the file items."""
