"""What routes of every capability share: cursors, conditional requests, correlation ids, public URLs,
response security headers, and the errors any route can raise."""
