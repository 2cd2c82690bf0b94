"""The API Gateway Lambda authorizer (TOKEN type): verifies the caller's bearer JWT."""
