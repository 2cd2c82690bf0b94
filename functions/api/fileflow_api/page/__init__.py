"""The upload page (`/app/`), served from the `web` layer's files under a strict CSP."""
